module libconnpool.org/connpool

go 1.19
