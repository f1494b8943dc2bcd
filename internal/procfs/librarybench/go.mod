module github.com/tcpdrop/tcpdrop/internal/procfs/librarybench

go 1.26.0

require (
	github.com/prometheus/procfs v0.23.0
	github.com/tcpdrop/tcpdrop v0.0.0
	golang.org/x/sys v0.50.0
)

replace github.com/tcpdrop/tcpdrop => ../../..
