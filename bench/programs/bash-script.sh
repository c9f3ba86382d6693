# A fixed bash workload for the benchmark of real programs: arithmetic, arrays, string operations and
# functions in one process (no subshells, no external commands).
n=${1:-3000}
declare -a a
sum=0
for ((i = 0; i < n; i++)); do a[i]=$(( (i * 7919) % 10007 )); (( sum += a[i] )); done
words=""
for ((i = 0; i < n / 10; i++)); do words+="w$(( i % 37 ))-"; done
count=0
IFS=-; parts=($words); unset IFS
for w in "${parts[@]}"; do [[ $w == w1* ]] && (( count++ )); done
rev() { local s=$1 r=""; for ((j = ${#s} - 1; j >= 0; j--)); do r+=${s:j:1}; done; REPLY=$r; }
rev "itrace-benchmark"
echo "bash: n=$n sum=$sum count=$count ${#parts[@]} $REPLY"
