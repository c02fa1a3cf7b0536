#!/bin/sh
# Score a class too large for one machine in N shards by student, then merge the reports:
#   sh examples/homework/shard.sh KEY ANSWERS N > class.json
set -e
key=$1 answers=$2 n=$3
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
# 1. Split by student (awk): shard k has the header, the rows of every n-th student (in the
#    order of their first rows), and an empty line in place of every other row, so that line
#    numbers stay those of the whole file (cgdiff skips empty lines).
for k in $(seq 0 $((n - 1))); do
  awk -F, -v k="$k" -v n="$n" 'NR == 1 {print; next} !($1 in s) {s[$1] = c++ % n}
    s[$1] == k {print; next} {print ""}' "$answers" > "$d/$k.csv"
done
# 2. Score the shards, n at a time (xargs -P; or copy each shard to a machine of its own).
#    Exit 1 (a wrong answer) is a result; 2 or more is an error that stops the merge.
ls "$d"/*.csv | xargs -P "$n" -I{} sh -c \
  'cgdiff check "$1" --answers "$2" --format json --jobs 1 > "$2.json" || [ $? -eq 1 ]' _ "$key" {}
# 3. Merge (jq): the key's results once, the students shard by shard, the scores per item
#    summed, the malformed rows in the order of their lines.
jq -s '.[0] + {
  students: [.[].students[]],
  item_scores: ([.[].item_scores] | transpose
    | map(.[0] + {passed: (map(.passed) | add), total: (map(.total) | add)})),
  malformed: ([.[].malformed[]] | sort_by(.line))}' "$d"/*.json
