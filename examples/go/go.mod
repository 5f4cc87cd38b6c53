module example.com/connpool-example

go 1.19

require libconnpool.org/connpool v0.0.0

// Where `cmake --install` put the binding's module source (prefix /usr/local).
replace libconnpool.org/connpool => /usr/local/share/connpool/go
