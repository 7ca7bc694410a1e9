#!/bin/sh
# Health check of a serving lab container: is something listening on the TCP
# port (default 5061)? It reads the socket table instead of connecting, so it
# leaves no "TCP port check" line in the server's log every two seconds.
port=$(printf '%04X' "${1:-5061}")
grep -qE "^ *[0-9]+: [0-9A-F]+:$port [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6
