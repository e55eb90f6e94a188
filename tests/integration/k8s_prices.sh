#!/usr/bin/env bash
# k8s_prices.sh: what a kubernetes offer costs. With site rates only, one H100 is
# rate_gpu_hour; with `catalog: lambda` (a managed cluster priced like that cloud), the
# catalog's cheapest Lambda instance with one H100, read from catalog/gpu-prices.csv here;
# a spot node keeps the site's spot price (the section has no spot prices); a catalog
# section the file lacks leaves the site rates.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"
. "$here/../lib/k8stest.sh"
trap 'k8srig_stop; t_cleanup' EXIT

k8srig_start "$T_HOME/k8s"
k8s_test_templates
price() { # TEMPLATE [ARGS]: the dry run's $/h
	g -o json launch "$@" --provider kube --dry-run | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("%.4f" % d["price_per_hour"])'
}
want=$(python3 -c '
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["provider"] == "lambda"
        and r["gpu_name"] == "H100" and r["gpu_count"] == "1"]
print("%.4f" % min(float(r["ondemand_usd_per_hour"]) for r in rows))' "$GANTRY_SRCDIR/catalog/gpu-prices.csv")

k8s_test_config kube
check "site rates: one H100 at rate_gpu_hour" test "$(price ktrain)" = 2.0000
k8s_test_config kube "catalog: lambda"
check "catalog lambda: the cheapest Lambda H100 x1 ($want)" test "$(price ktrain)" = "$want"
k8s_test_config kube "catalog: nosuchcloud"
check "a section the catalog lacks: the site rates" test "$(price ktrain)" = 2.0000
t_done
