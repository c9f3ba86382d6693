#!/bin/sh
# Rebuilds every sample guest into guests/bin/. Needs musl-gcc (Debian: musl-tools) and gcc (glibc).
# Each program is built twice as a static, non-PIE ET_EXEC: NAME-musl and NAME-glibc; hello is also built
# as a static-PIE musl binary (hello-musl-pie). Symbols are kept (the replayer and `trace query` read .symtab);
# build ids are left out so a rebuild with the same compilers gives the same bytes.
set -eu
cd "$(dirname "$0")"
mkdir -p bin
CFLAGS="-O2 -Wall -Wextra -fno-stack-protector -Wl,--build-id=none"
for src in src/*.c; do
  name=$(basename "$src" .c)
  musl-gcc $CFLAGS -static -no-pie -o "bin/$name-musl" "$src" -lm
  case $name in diffdemo-*) continue ;; esac # the trace diff pair is built with musl only
  gcc $CFLAGS -static -no-pie -o "bin/$name-glibc" "$src" -lm
done
# the compute workload as compilers target x86-64-v2 today (auto-vectorised with SSSE3/SSE4.1/SSE4.2, POPCNT)
musl-gcc $CFLAGS -O3 -march=x86-64-v2 -static -no-pie -o bin/compute-v2-musl src/compute.c -lm
gcc $CFLAGS -O3 -march=x86-64-v2 -static -no-pie -o bin/compute-v2-glibc src/compute.c -lm
# and x86-64-v3 (AVX2, BMI2, FMA, MOVBE): run with --cpu x86-64-v3
musl-gcc $CFLAGS -O3 -march=x86-64-v3 -static -no-pie -o bin/compute-v3-musl src/compute.c -lm
gcc $CFLAGS -O3 -march=x86-64-v3 -static -no-pie -o bin/compute-v3-glibc src/compute.c -lm
# Debian's musl-gcc.specs does not support -static-pie (it links libc.so and Scrt1.o), so link by hand the
# way musl's own static-PIE support expects: rcrt1.o (self-relocating start) + libc.a, no PT_INTERP.
M=/usr/lib/x86_64-linux-musl
tmp=$(mktemp -d)
musl-gcc -O2 -Wall -Wextra -fno-stack-protector -fPIE -c -o "$tmp/hello.o" src/hello.c
ld -static -pie --no-dynamic-linker -z text --build-id=none -o bin/hello-musl-pie \
  "$M/rcrt1.o" "$M/crti.o" "$(gcc -print-file-name=crtbeginS.o)" "$tmp/hello.o" \
  "$M/libc.a" "$(gcc -print-libgcc-file-name)" "$M/libc.a" "$(gcc -print-file-name=crtendS.o)" "$M/crtn.o"
rm -rf "$tmp"
ls -l bin
