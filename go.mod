module github.com/tcptrace/tcptrace

go 1.26.8

require (
	github.com/google/gopacket v1.1.19 // indirect
	github.com/spf13/pflag v1.0.5 // indirect
)
