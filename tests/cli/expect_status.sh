#!/bin/sh
# expect_status.sh: run a command, pass its output through, and fail unless its exit status is exactly WANT.
# usage: expect_status.sh WANT COMMAND [ARGS...]   (status 2 also requires a message on stderr and nothing on stdout)
want=$1
shift
err=$(mktemp) || exit 1
out=$(mktemp) || exit 1
"$@" >"$out" 2>"$err"
got=$?
cat "$out"
cat "$err" >&2
status=0
if [ "$got" -ne "$want" ]; then
	echo "EXPECT_STATUS_FAILED: wanted exit status $want, got $got" >&2
	status=1
elif [ "$want" -eq 2 ]; then
	if [ ! -s "$err" ]; then
		echo "EXPECT_STATUS_FAILED: usage error without a message on stderr" >&2
		status=1
	elif [ -s "$out" ]; then
		echo "EXPECT_STATUS_FAILED: usage error wrote to stdout" >&2
		status=1
	fi
fi
rm -f "$err" "$out"
exit $status
