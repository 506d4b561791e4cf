#!/usr/bin/env python3
# mkcpio.py: write a "newc" cpio initramfs holding /dev, /dev/console (char 5:1) and the given file as /init.
# usage: mkcpio.py INIT_BINARY OUTPUT
import sys


def entry(name, mode, data, ino, rdev=(0, 0)):
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0)
    out = b"070701" + b"".join(b"%08x" % f for f in fields) + name.encode() + b"\0"
    out += b"\0" * (-len(out) % 4)
    return out + data + b"\0" * (-len(data) % 4)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkcpio.py INIT_BINARY OUTPUT")
    with open(sys.argv[1], "rb") as f:
        init = f.read()
    archive = (entry("dev", 0o040755, b"", 1) + entry("dev/console", 0o020600, b"", 2, (5, 1)) +
               entry("init", 0o100755, init, 3) + entry("TRAILER!!!", 0, b"", 0))
    with open(sys.argv[2], "wb") as f:
        f.write(archive)


main()
