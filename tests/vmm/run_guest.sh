#!/bin/sh
# run_guest.sh: boot a test kernel with `hvx run` on one backend; pass when the exit status and every output regex match.
# usage: run_guest.sh HVX BACKEND WANT_STATUS REGEX... -- HVX-RUN-ARGS...
# A REGEX starting with "ERR:" is matched against stderr instead of stdout.
# Exit 77 (CTest SKIP) when the backend cannot run guests here (hvx run exits 77).
hvx=$1 backend=$2 want=$3
shift 3
regexes=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	regexes="$regexes
$1"
	shift
done
[ "$1" = "--" ] && shift
out=$(mktemp) || exit 1
err=$(mktemp) || exit 1
# HVX_TEST_INPUT: text fed to the guest's COM1 through stdin (default: no input at all).
if [ -n "$HVX_TEST_INPUT" ]; then
	printf '%s\n' "$HVX_TEST_INPUT" | HVX_BACKEND= "$hvx" run --backend "$backend" --timeout 30 "$@" >"$out" 2>"$err"
else
	HVX_BACKEND= "$hvx" run --backend "$backend" --timeout 30 --no-input "$@" >"$out" 2>"$err" </dev/null
fi
st=$?
cat "$out"
cat "$err" >&2
status=0
if [ "$st" -eq 77 ]; then
	echo "SKIP: backend '$backend' cannot run guests here: $(tail -n 1 "$err")"
	status=77
elif [ "$st" -ne "$want" ]; then
	echo "FAIL: exit status $st, wanted $want"
	status=1
else
	old_ifs=$IFS
	IFS='
'
	for re in $regexes; do
		file=$out
		case $re in ERR:*) re=${re#ERR:}; file=$err ;; esac
		if ! grep -Eq -- "$re" "$file"; then
			echo "FAIL: output does not match /$re/"
			status=1
		fi
	done
	IFS=$old_ifs
fi
rm -f "$out" "$err"
exit $status
