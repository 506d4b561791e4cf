#!/bin/sh
# linux_boot.sh: optional smoke test: boot the Linux kernel named by $HVX_LINUX_KERNEL (a bzImage or a PVH vmlinux)
# with a serial console and check that it prints its banner. SKIP (77) when the variable is unset or the
# backend cannot run guests.
# usage: linux_boot.sh HVX BACKEND
hvx=$1 backend=$2
if [ -z "$HVX_LINUX_KERNEL" ] || [ ! -f "$HVX_LINUX_KERNEL" ]; then
	echo "SKIP: set HVX_LINUX_KERNEL to a bzImage or vmlinux to run this test"
	exit 77
fi
out=$(mktemp) || exit 1
HVX_BACKEND= "$hvx" run --backend "$backend" --timeout "${HVX_LINUX_TIMEOUT:-120}" --no-input --memory 512M \
	--append "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1" "$HVX_LINUX_KERNEL" >"$out" 2>&1 </dev/null
st=$?
tail -n 40 "$out"
if [ "$st" -eq 77 ]; then
	rm -f "$out"
	exit 77
fi
if grep -q '^\[ *0\.000000\] Linux version' "$out" && grep -q 'Command line: console=ttyS0' "$out"; then
	echo "PASS: the kernel booted far enough to print its banner and command line (exit status $st)"
	rm -f "$out"
	exit 0
fi
echo "FAIL: no Linux banner on the serial console (exit status $st)"
rm -f "$out"
exit 1
