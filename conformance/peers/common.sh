# shellcheck shell=bash
# What every peer script here needs (sourced by them and by test.sh; it
# defines functions only and runs nothing).

# peer_free_port: a loopback TCP port nothing listens on now.
peer_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
