//go:build linux

// Package blackbox measures the built deltascope binary from the outside,
// against peers fetching the same pages from the same in-memory server in
// the same run: a raw download, and a plain encoding/json client that
// keeps a map by id. Wall time and peak RSS (getrusage of each child
// process) are compared, for pages sent with a Content-Length, chunked,
// and gzip-encoded. Benchmarks only; `go test ./...` runs nothing here:
//
//	go test -run '^$' -bench 'Wire/bc-1M' -benchtime 1x -count 3 ./blackbox
package blackbox
