#!/usr/bin/env bash
# run.sh: install the build into a scratch prefix, then build client.c (C and C++) with pkg-config and with CMake's package, and run it.
set -euo pipefail
build=$1 src=$2 cc=${3:-cc} cxx=${4:-c++}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib* | head -1)
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name hvx.pc)")
flags="-Wall -Wextra -Werror -pedantic"
$cc -std=c99 $flags "$src/client.c" -o "$prefix/client" $(pkg-config --cflags --libs hvx)
LD_LIBRARY_PATH=$libdir "$prefix/client"
$cxx -std=c++11 $flags -x c++ "$src/client.c" -o "$prefix/client_cxx" $(pkg-config --cflags --libs hvx)
LD_LIBRARY_PATH=$libdir "$prefix/client_cxx"
# Static linking through pkg-config --static.
$cc -std=c17 $flags "$src/client.c" -o "$prefix/client_static" $(pkg-config --cflags hvx) "$libdir/libhvx.a" $(pkg-config --static --libs-only-l hvx | sed 's/-lhvx//')
"$prefix/client_static"
# CMake package config.
mkdir -p "$prefix/cmk"
cat > "$prefix/cmk/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(client C)
find_package(hvx REQUIRED)
add_executable(client_cmake $src/client.c)
target_link_libraries(client_cmake PRIVATE hvx::hvx)
CM
cmake -S "$prefix/cmk" -B "$prefix/cmk/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cmk/build" >/dev/null
LD_LIBRARY_PATH=$libdir "$prefix/cmk/build/client_cmake"
