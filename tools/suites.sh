#!/usr/bin/env bash
# Fetches the packet captures other projects ship in Debian packages (their
# test suites and examples) into testdata/suites/PACKAGE/, for the tests
# that hold tcptrace to tshark and Ostermann's tcptrace on traffic this
# project did not make, and to its error messages on files that are broken
# (cmd/tcptrace/peers_test.go: captures, suiteBroken). The packages are
# downloaded and unpacked, not installed. Needs Debian's apt-get and dpkg, and go.
#
#   tools/suites.sh        # then: go test ./cmd/tcptrace
set -euo pipefail
cd "$(dirname "$0")/.."

# Each ships captures in its tests or examples:
#   pathspider                        path transparency measurements (ECN, TFO, DSCP, ICMP, a real hour of probes)
#   golang-github-google-gopacket-dev gopacket's pcap and pcapng reader tests, both byte orders
#   python3-dpkt                      HTTP over PPPoE and L2TP, truncated files
#   pcapfix                           damaged files and the files they were damaged from
#   ruby-pcaprub                      a 1999 telnet session
#   python3-libtrace                  anonymised traces (gzip inside gzip)
#   pktanon                           an anonymiser's sample
#   sip-tester                        SIP and RTP scenarios
# and, from the Go module proxy, github.com/gopacket/gopacket's layers/testdata (below).
pkgs=(pathspider golang-github-google-gopacket-dev python3-dpkt pcapfix ruby-pcaprub python3-libtrace pktanon sip-tester)

dest=testdata/suites
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
download() { (cd "$work" && apt-get -qq -o APT::Sandbox::User=root download "${pkgs[@]}"); }
if ! download 2>/dev/null; then
	apt-get update -qq
	download
fi
rm -rf "$dest"
mkdir -p "$dest"
for deb in "$work"/*.deb; do
	pkg=$(dpkg-deb -f "$deb" Package)
	dpkg-deb -x "$deb" "$work/$pkg"
	mkdir -p "$dest/$pkg"
	# Flattened paths: several packages ship one name in two folders
	# (gopacket's tests/le and tests/be).
	(cd "$work/$pkg" && find . -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' \) | sort) |
		while read -r f; do
			f=${f#./}
			cp "$work/$pkg/$f" "$dest/$pkg/${f//\//_}"
		done
	echo "$pkg $(dpkg-deb -f "$deb" Version) $(ls "$dest/$pkg" | wc -l)" >>"$dest/VERSIONS"
done

# And the captures of gopacket's own layer tests, from the Go module (newer than Debian's package
# above): industrial protocols over TCP from real devices (S7comm, OPC UA, MMS, DNP3, IEC 104,
# EtherNet/IP and CIP), PTP, BACnet and more.
export PATH="$PATH:/usr/local/go/bin"
gomod=github.com/gopacket/gopacket@v1.8.0
moddir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$gomod" | grep '"Dir"' | cut -d'"' -f4)
mkdir -p "$dest/go-gopacket"
(cd "$moddir" && find layers/testdata -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort) |
	while read -r f; do
		cp "$moddir/$f" "$dest/go-gopacket/${f//\//_}"
	done
chmod -R u+w "$dest/go-gopacket" # the module cache is read-only
echo "go-gopacket ${gomod#*@} $(ls "$dest/go-gopacket" | wc -l)" >>"$dest/VERSIONS"
cat "$dest/VERSIONS"
