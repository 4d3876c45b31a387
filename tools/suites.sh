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
# and, from the Go module proxy, github.com/gopacket/gopacket's layers/testdata; and from
# Debian's source packages (their upstream test suites, which the binary packages leave out):
#   tcpdump                           tcpdump's tests: every protocol it prints, and the
#                                     damaged and fuzzed files behind its security fixes
#   wireshark                         Wireshark's test captures (TCP analysis, TLS, HTTP/2, QUIC)
#   libpcap                           libpcap's reader tests: files with bad versions and blocks
#   tcpflow                           tcpflow's regression captures
#   ndpi                              nDPI's traffic of some 250 applications, and fuzzer finds
srcpkgs=(tcpdump wireshark libpcap tcpflow ndpi)
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

# The source packages, through a deb-src twin of the machine's Debian sources
# kept in $work: the machine's own apt configuration is left as it is.
mkdir -p "$work/lists/partial" "$work/src"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$work/src.list.sources"
	srclist=(-o Dir::Etc::sourcelist="$work/src.list.sources")
else
	sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$work/src.list"
	srclist=(-o Dir::Etc::sourcelist="$work/src.list")
fi
aptsrc=("${srclist[@]}" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$work/lists" -o APT::Sandbox::User=root)
apt-get -qq "${aptsrc[@]}" update
# Only each package's upstream tarball: Debian's own part is not needed (and
# the mirror has lacked some).
(cd "$work/src" && apt-get -qq "${aptsrc[@]}" --print-uris source "${srcpkgs[@]}") |
	sed -n "s/^'\([^']*\)' \([^ ]*\.orig\.tar\.[a-z0-9]*\) [0-9]* \(.*\)/\1 \2 \3/p" |
	while read -r uri name hash; do
		/usr/lib/apt/apt-helper -qq -o APT::Sandbox::User=root download-file "$uri" "$work/src/$name" "$hash" >/dev/null
	done
for pkg in "${srcpkgs[@]}"; do
	orig=$(ls "$work/src/${pkg}_"*.orig.tar.*)
	version=${orig##*/${pkg}_}
	version=${version%.orig.tar.*}
	mkdir -p "$work/x/$pkg" "$dest/src-$pkg"
	tar -tf "$orig" | grep -E '\.(pcap|pcapng|cap)(\.gz)?$' >"$work/x/$pkg.list"
	tar -xf "$orig" -C "$work/x/$pkg" --verbatim-files-from -T "$work/x/$pkg.list"
	# Paths inside the tarball, less its top folder, flattened.
	(cd "$work/x/$pkg"/* && find . -type f | sort) |
		while read -r f; do
			f=${f#./}
			cp "$work/x/$pkg"/*/"$f" "$dest/src-$pkg/${f//\//_}"
		done
	echo "src-$pkg $version $(ls "$dest/src-$pkg" | wc -l)" >>"$dest/VERSIONS"
done
cat "$dest/VERSIONS"
