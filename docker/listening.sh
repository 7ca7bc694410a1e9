#!/bin/sh
# Health check of a serving lab container: is something listening on the TCP
# port (default 5061)? It reads the socket table instead of connecting, so it
# neither shows up as a failed handshake in the server's log nor uses up the
# one handshake of `serve --once`.
port=$(printf '%04X' "${1:-5061}")
grep -qE "^ *[0-9]+: [0-9A-F]+:$port [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6
