module example.com/connpool-example

go 1.19

require github.com/libconnpool/connpool-go v1.2.0

// Where the golang-github-libconnpool-connpool-go-dev package puts the module's source
// (`cmake --install` with a prefix P puts it under P/share/gocode/src); drop this line once
// the module is fetched from its published path.
replace github.com/libconnpool/connpool-go => /usr/share/gocode/src/github.com/libconnpool/connpool-go
