#!/bin/sh
# memory_plan.sh VITC MODEL TMP: `vitc ir --stats` reports the memory plan the
# backend compiles to: its `memory arena_bytes` equals the WORKSPACE_BYTES of
# the generated header, with the optimizer (default) and without it (-O0).
set -e
vitc=$1 model=$2 tmp=$3
# shellcheck disable=SC2086 # $opt is empty or one word
for opt in "" -O0; do
  arena=$("$vitc" ir "$model" --batch 1 --stats $opt | sed -n 's/^memory arena_bytes //p')
  "$vitc" compile "$model" --batch 1 $opt -o "$tmp.so"
  ws=$(sed -n 's/^#define .*_WORKSPACE_BYTES \([0-9]*\)ull$/\1/p' "$tmp.h")
  [ -n "$arena" ] && [ "$arena" = "$ws" ] || { echo "FAIL ${opt:-default}: ir --stats arena_bytes '$arena', compiled workspace '$ws'"; exit 1; }
  echo "${opt:-default}: arena_bytes $arena = workspace"
done
