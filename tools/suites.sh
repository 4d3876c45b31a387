#!/usr/bin/env bash
# Fetches the packet captures other projects ship in Debian packages (their
# test suites and examples) into testdata/suites/PACKAGE/, for the tests
# that hold tcptrace to tshark and Ostermann's tcptrace on traffic this
# project did not make, and to its error messages on files that are broken
# (cmd/tcptrace/peers_test.go: captures, suiteBroken). The packages are
# downloaded and unpacked, not installed. Needs Debian's apt-get and dpkg.
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
cat "$dest/VERSIONS"
