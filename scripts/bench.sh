#!/usr/bin/env bash
# armfix's benchmark: one command from a clean clone.
#
#     scripts/bench.sh            # RUNS=5 timed runs per figure, median reported
#     RUNS=9 BENCH_DIR=/tmp/b scripts/bench.sh
#
# Builds armfix in release mode, installs what is missing (Debian's ripgrep, GNU time,
# python3) with apt-get, generates synthetic repositories with scripts/gen_repo.py (seeded:
# the same files every time) under $BENCH_DIR (default target/bench, kept between runs), and
# prints a Markdown report: the machine, then each figure as the median of $RUNS runs.
#
#   1. `armfix check` vs `rg -l -i managedclusters` on the same warm tree (10,000 files,
#      200 MB, 5% of the files need a fix). rg skips hidden folders by default and armfix
#      enters them, so `rg --hidden` is shown too.
#   2. `armfix fix --yes` on a fresh copy of that tree (copied before each run, not timed),
#      then a check that the copy has nothing left to fix.
#   3. one 20 MB template with 200 clusters that all need a fix: `armfix fix --yes` time and
#      peak memory (GNU time's maximum resident set size).
#   4. growth: `armfix check` (and rg) on 1,000, 10,000 and 100,000 small files (4 KB mean).
#   5. Terraform: 1,000 folders of `.tf` files (each a root module: main.tf with a cluster,
#      variables.tf, a prod.tfvars; every third cluster needs a fix; every fourth folder is
#      written in Terraform's JSON syntax instead: main.tf.json, variables.tf.json and a
#      terraform.tfvars.json) plus 1,000 folders of `.tf` files without a cluster:
#      `armfix check` and `armfix fix --yes` on a fresh copy.
#
# ONLY=terraform runs section 5 alone (nothing else is generated).
#
# hyperfine is optional: when it is installed, the check-vs-rg comparison is also run with it.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${RUNS:-5}
SEED=${SEED:-7}
BENCH_DIR=${BENCH_DIR:-$ROOT/target/bench}
ARMFIX=$ROOT/target/release/armfix
mkdir -p "$BENCH_DIR"

note() { echo "bench: $*" >&2; }

apt_install() {
    note "installing $* with apt-get"
    if ! apt-get install -y -qq "$@" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq "$@" >/dev/null
    fi
}
command -v rg >/dev/null || apt_install ripgrep
[ -x /usr/bin/time ] || apt_install time
command -v python3 >/dev/null || apt_install python3

note "building armfix (release)"
cargo build --release --quiet

gen() { # gen NAME ARGS...: generate once, keep for later runs
    local name=$1
    shift
    if [ ! -e "$BENCH_DIR/$name" ]; then
        note "generating $name"
        python3 scripts/gen_repo.py "$@" --seed "$SEED" >"$BENCH_DIR/$name.summary"
    fi
}
ONLY=${ONLY:-all}
if [ "$ONLY" = all ]; then
    gen r10k repo "$BENCH_DIR/r10k" --files 10000 --size-mb 200
    gen big.json big "$BENCH_DIR/big.json" --size-mb 20 --clusters 200
    gen g1k repo "$BENCH_DIR/g1k" --files 1000 --size-mb 4
    gen g10k repo "$BENCH_DIR/g10k" --files 10000 --size-mb 40
    gen g100k repo "$BENCH_DIR/g100k" --files 100000 --size-mb 400
fi

# run_ms PREP CMD...: runs PREP (untimed, through the shell; ":" for none) then CMD, $RUNS
# times; prints "median_wall_ms peak_kb median_cpu_ms". CPU time is user + system from the
# kernel's accounting of the child (wait4), to the microsecond; the peak is the largest
# maximum resident set size of the runs, the figure GNU time -v reports.
run_ms() {
    python3 - "$RUNS" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
runs, prep, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
walls, cpus, peak = [], [], 0
for _ in range(runs):
    subprocess.run(prep, shell=True, check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = __import__("os").wait4(p.pid, 0)
    walls.append((time.perf_counter() - t) * 1000)
    cpus.append((usage.ru_utime + usage.ru_stime) * 1000)
    peak = max(peak, usage.ru_maxrss)
print(round(statistics.median(walls)), peak, round(statistics.median(cpus)))
PY
}
ratio() { python3 -c "print(f'{$1 / max($2, 1):.2f}')"; }
bytes() { du -sb --apparent-size "$1" | cut -f1; }
mb() { python3 -c "print(f'{$1 / 1e6:.1f}')"; }

warm() { rg -uuu -c . "$1" >/dev/null 2>&1 || true; }

echo "# armfix benchmark"
echo
echo "- command: \`RUNS=$RUNS ONLY=$ONLY scripts/bench.sh\` (seed $SEED), median of $RUNS runs"
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GB memory"
echo "- armfix $(git describe --always --dirty 2>/dev/null || echo '?'), $(rg --version | head -1)"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

if [ "$ONLY" = all ]; then
# 1. check vs rg, warm tree.
T=$BENCH_DIR/r10k
warm "$T"
n_files=$(find "$T" -type f | wc -l)
n_json=$(find "$T" -name '*.json' -not -path '*/node_modules/*' | wc -l)
echo "## 1. check vs ripgrep, warm tree"
echo
echo "Tree: $n_files files, $(mb "$(bytes "$T")") MB ($n_json JSON files outside ignored folders); $(cat "$BENCH_DIR/r10k.summary")."
echo
read -r check _ checkcpu < <(run_ms : "$ARMFIX" check "$T")
read -r rgt _ rgtcpu < <(run_ms : rg -l -i managedclusters "$T")
read -r rgh _ rghcpu < <(run_ms : rg -l -i --hidden managedclusters "$T")
echo "| command | median wall time | median CPU time (user + system) |"
echo "| --- | ---: | ---: |"
echo "| \`armfix check\` | $check ms | $checkcpu ms |"
echo "| \`rg -l -i managedclusters\` | $rgt ms | $rgtcpu ms |"
echo "| \`rg -l -i --hidden managedclusters\` | $rgh ms | $rghcpu ms |"
echo
echo "Wall time: armfix / rg = $(ratio "$check" "$rgt") (goal: at most 2), armfix / rg --hidden = $(ratio "$check" "$rgh")."
echo "CPU time: armfix / rg = $(ratio "$checkcpu" "$rgtcpu")."
echo
if command -v hyperfine >/dev/null; then
    echo '```'
    hyperfine -N -w 2 -r "$RUNS" -i "$ARMFIX check $T" "rg -l -i managedclusters $T" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
    echo '```'
    echo
fi

# 2. fix --yes on a fresh copy.
C=$BENCH_DIR/r10k-copy
read -r fix _ fixcpu < <(run_ms "rm -rf '$C'; cp -a '$T' '$C'; sync" "$ARMFIX" fix --yes "$C")
rm -rf "$C"
cp -a "$T" "$C"
written=$("$ARMFIX" fix --yes "$C" 2>&1 >/dev/null | grep -c '^armfix: wrote' || true)
after=$("$ARMFIX" check "$C" 2>&1 >/dev/null | tail -1)  # the summary is on stderr
rm -rf "$C"
echo "## 2. fix --yes on a fresh copy"
echo
echo "| command | median wall time | CPU time | files written | check afterwards |"
echo "| --- | ---: | ---: | ---: | --- |"
echo "| \`armfix fix --yes\` | $fix ms | $fixcpu ms | $written | $after |"
echo

# 3. the 20 MB template.
B=$BENCH_DIR/big.json
size=$(stat -c %s "$B")
read -r bigt bigkb bigcpu < <(run_ms "cp '$B' '$B.copy'" "$ARMFIX" fix --yes "$B.copy")
read -r bigc bigckb bigccpu < <(run_ms : "$ARMFIX" check "$B")
rm -f "$B.copy"
echo "## 3. one $(mb "$size") MB template with 200 clusters to fix"
echo
echo "| command | median wall time | CPU time | peak memory | peak / file size |"
echo "| --- | ---: | ---: | ---: | ---: |"
echo "| \`armfix fix --yes\` | $bigt ms | $bigcpu ms | $((bigkb / 1024)) MB | $(ratio "$((bigkb * 1024))" "$size") |"
echo "| \`armfix check\` | $bigc ms | $bigccpu ms | $((bigckb / 1024)) MB | $(ratio "$((bigckb * 1024))" "$size") |"
echo
cp "$B" "$B.copy"
echo "GNU time -v on one more \`armfix fix --yes\` run: $(/usr/bin/time -v "$ARMFIX" fix --yes "$B.copy" 2>&1 >/dev/null | grep -E 'Maximum resident|Elapsed' | sed 's/^[[:space:]]*//' | paste -sd';' | sed 's/;/; /')."
rm -f "$B.copy"
echo
echo "Goals: under 500 ms, peak under 4x the file."
echo

# 4. growth.
echo "## 4. growth"
echo
echo "| files | MB | \`armfix check\` wall | CPU | CPU per 1,000 files | \`rg -l -i\` wall | CPU |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for g in g1k g10k g100k; do
    G=$BENCH_DIR/$g
    warm "$G"
    n=$(find "$G" -type f | wc -l)
    read -r a _ acpu < <(run_ms : "$ARMFIX" check "$G")
    read -r r _ rcpu < <(run_ms : rg -l -i managedclusters "$G")
    echo "| $n | $(mb "$(bytes "$G")") | $a ms | $acpu ms | $(python3 -c "print(f'{$acpu * 1000 / $n:.1f}')") ms | $r ms | $rcpu ms |"
done
echo

fi # ONLY=all

# 5. Terraform: every file of a folder is read with its siblings (a root module is a folder).
# (tf1k-json: the tree with the JSON-syntax share; the older tf1k had none.)
TF=$BENCH_DIR/tf1k-json
if [ ! -e "$TF" ]; then
    note "generating tf1k-json"
    python3 - "$TF" <<'PY'
import json, os, sys
root = sys.argv[1]
for i in range(1000):
    d = os.path.join(root, f"aks{i:04d}")
    os.makedirs(d)
    rotation = "false" if i % 3 == 0 else "true"
    if i % 4 == 1:
        # Terraform's JSON syntax: the same module, as a generator would write it.
        main = {"resource": {
            "azurerm_resource_group": {"rg": {"name": f"rg-{i}", "location": "${var.location}"}},
            "azurerm_kubernetes_cluster": {"aks": {
                "name": f"aks-{i}",
                "location": "${azurerm_resource_group.rg.location}",
                "resource_group_name": "${azurerm_resource_group.rg.name}",
                "dns_prefix": f"aks{i}",
                "default_node_pool": {"name": "system", "node_count": 3,
                                      "vm_size": "Standard_D4s_v5"},
                "key_vault_secrets_provider": {"secret_rotation_enabled": "${var.rotation}",
                                               "secret_rotation_interval": "2m"},
            }},
        }}
        variables = {"variable": {
            "location": {"type": "string", "default": "westeurope"},
            "rotation": {"type": "bool", "default": rotation == "true"},
        }}
        for name, doc in [("main.tf.json", main), ("variables.tf.json", variables),
                          ("terraform.tfvars.json", {"location": "northeurope"})]:
            with open(os.path.join(d, name), "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
        os.makedirs(os.path.join(root, f"net{i:04d}"))
        with open(os.path.join(root, f"net{i:04d}", "main.tf"), "w") as f:
            f.write(f'resource "azurerm_virtual_network" "vnet" {{\n  name = "vnet-{i}"\n}}\n')
        continue
    with open(os.path.join(d, "main.tf"), "w") as f:
        f.write(f'''resource "azurerm_resource_group" "rg" {{
  name     = "rg-{i}"
  location = var.location
}}

resource "azurerm_kubernetes_cluster" "aks" {{
  name                = "aks-{i}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  dns_prefix          = "aks{i}"

  default_node_pool {{
    name       = "system"
    node_count = 3
    vm_size    = "Standard_D4s_v5"
  }}

  dynamic "key_vault_secrets_provider" {{
    for_each = var.csi_enabled ? [1] : []
    content {{
      secret_rotation_enabled  = var.rotation
      secret_rotation_interval = "2m"
    }}
  }}
}}
''')
    with open(os.path.join(d, "variables.tf"), "w") as f:
        f.write(f'''variable "location" {{
  type    = string
  default = "westeurope"
}}

variable "csi_enabled" {{
  type    = bool
  default = true
}}

variable "rotation" {{
  type    = bool
  default = {rotation}
}}
''')
    with open(os.path.join(d, "prod.tfvars"), "w") as f:
        f.write('location = "northeurope"\n')
    o = os.path.join(root, f"net{i:04d}")
    os.makedirs(o)
    with open(os.path.join(o, "main.tf"), "w") as f:
        f.write(f'''resource "azurerm_virtual_network" "vnet" {{
  name          = "vnet-{i}"
  address_space = ["10.{i % 256}.0.0/16"]
}}
''')
PY
fi
n=$(find "$TF" -type f | wc -l)
read -r tfc _ tfccpu < <(run_ms : "$ARMFIX" check "$TF")
C=$BENCH_DIR/tf1k-copy
read -r tff _ tffcpu < <(run_ms "rm -rf '$C'; cp -a '$TF' '$C'; sync" "$ARMFIX" fix --yes "$C")
rm -rf "$C"
nj=$(find "$TF" -type f -name '*.json' | wc -l)
echo "## 5. Terraform: $n files ($nj in JSON syntax) in 2,000 folders"
echo
echo "| command | median wall time | CPU time |"
echo "| --- | ---: | ---: |"
echo "| \`armfix check\` | $tfc ms | $tfccpu ms |"
echo "| \`armfix fix --yes\` (fresh copy) | $tff ms | $tffcpu ms |"
echo
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
