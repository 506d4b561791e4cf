#!/bin/sh
# bad_image.sh: make one kind of broken image (or bad option set) and check `hvx run` refuses it with exit status 2 and a message.
# usage: bad_image.sh HVX GUESTDIR KIND
hvx=$1 guests=$2 kind=$3
dir=$(mktemp -d) || exit 1
img=$dir/image
extra=""
case $kind in
missing) img=$dir/does-not-exist ;;
empty) : >"$img" ;;
garbage) printf 'this is not a kernel image, just text\n' >"$img" ;;
directory) img=$dir ;;
elf_truncated) head -c 40 "$guests/elf32.bin" >"$img" ;;
elf_segment_outside) head -c 120 "$guests/elf32.bin" >"$img" ;;
elf_bad_machine) cp "$guests/elf32.bin" "$img"; printf '\050' | dd of="$img" bs=1 seek=18 conv=notrunc 2>/dev/null ;;
multiboot_truncated) head -c 200 "$guests/multiboot_aout.bin" >"$img" ;;
multiboot_bad_flags)
	# a flat image whose multiboot header asks for feature bit 3 (unsupported), checksum adjusted
	printf '\002\260\255\033\010\000\000\000\366\117\122\344' >"$img" ;;
bzimage_truncated) head -c 700 "$guests/bzimage.bin" >"$img" ;;
bzimage_old_protocol) cp "$guests/bzimage.bin" "$img"; printf '\001\002' | dd of="$img" bs=1 seek=518 conv=notrunc 2>/dev/null ;;
memory_too_small) cp "$guests/elf64.bin" "$img"; extra="--memory 2M" ;;
initrd_missing) cp "$guests/bzimage.bin" "$img"; extra="--initrd $dir/no-such-initrd" ;;
module_missing) cp "$guests/multiboot_elf.bin" "$img"; extra="--module $dir/no-such-module" ;;
real_mode_too_high) cp "$guests/flat_real.bin" "$img"; extra="--format flat --mode real --load-addr 0x200000" ;;
cmdline_too_long) cp "$guests/bzimage.bin" "$img"; extra="--append $(head -c 400 /dev/zero | tr '\0' x)" ;;
*) echo "unknown kind $kind"; exit 1 ;;
esac
err=$dir/err
out=$dir/out
# shellcheck disable=SC2086
"$hvx" run --backend emu --timeout 10 --no-input $extra "$img" >"$out" 2>"$err" </dev/null
st=$?
cat "$err"
status=0
if [ "$st" -ne 2 ]; then
	echo "FAIL: exit status $st, wanted 2"
	status=1
elif ! grep -q '^hvx run: ' "$err"; then
	echo "FAIL: no 'hvx run: ' message on stderr"
	status=1
elif [ -s "$out" ]; then
	echo "FAIL: something ran (stdout not empty)"
	status=1
fi
rm -rf "$dir"
exit $status
