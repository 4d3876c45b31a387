module github.com/tcptrace/tcptrace

go 1.26.8

require (
	github.com/google/gopacket v1.1.19
	github.com/spf13/pflag v1.0.5
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.49.0
)
