#!/bin/sh
# linux_init.sh: optional test: boot the Linux kernel named by $HVX_LINUX_KERNEL (x86-64 bzImage) to user space with an
# initramfs built here (a static /init that prints "hvx: init reached" and calls reboot(POWER_OFF)), and check the
# line, the ACPI power-off and the clean exit (status 0). SKIP (77) without the kernel, a compiler for x86-64 or python3.
# usage: linux_init.sh HVX BACKEND CC SRCDIR
hvx=$1 backend=$2 cc=$3 src=$4
if [ -z "$HVX_LINUX_KERNEL" ] || [ ! -f "$HVX_LINUX_KERNEL" ]; then
	echo "SKIP: set HVX_LINUX_KERNEL to an x86-64 Linux bzImage to run this test"
	exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed to pack the initramfs"; exit 77; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
if ! "$cc" -static -nostdlib -O2 -fno-stack-protector -fno-pie -no-pie -o "$dir/init" "$src/init.c" 2>"$dir/cc.err" ||
	! od -An -tx1 -j18 -N2 "$dir/init" | grep -q '3e 00'; then
	cat "$dir/cc.err"
	echo "SKIP: $cc cannot build a static x86-64 /init here"
	exit 77
fi
python3 "$src/mkcpio.py" "$dir/init" "$dir/initrd.cpio" || exit 1
start=$(date +%s.%N)
HVX_BACKEND= "$hvx" run --backend "$backend" --timeout "${HVX_LINUX_TIMEOUT:-240}" --no-input --memory 512M \
	--initrd "$dir/initrd.cpio" --append "console=ttyS0 panic=-1 rdinit=/init" --stats \
	"$HVX_LINUX_KERNEL" >"$dir/out" 2>"$dir/err" </dev/null
st=$?
end=$(date +%s.%N)
tail -n 25 "$dir/out"
cat "$dir/err"
[ "$st" -eq 77 ] && exit 77
t=$(sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' "$dir/out")
echo "kernel time at 'Run /init': ${t:-?} s; wall time of the whole run: $(echo "$end - $start" | bc 2>/dev/null || echo ?) s"
fail=0
grep -q '^hvx: init reached' "$dir/out" || { echo "FAIL: /init did not print its line"; fail=1; }
grep -q 'reboot: Power down' "$dir/out" || { echo "FAIL: no ACPI power-off ('reboot: Power down')"; fail=1; }
[ "$st" -eq 0 ] || { echo "FAIL: hvx run exited with status $st (want 0)"; fail=1; }
[ "$fail" -eq 0 ] && echo "PASS: Linux reached user space and powered off cleanly"
exit "$fail"
