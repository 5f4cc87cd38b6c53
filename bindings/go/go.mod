module github.com/libconnpool/connpool-go

go 1.19
