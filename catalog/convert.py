#!/usr/bin/env python3
"""Builds catalog/gpu-prices.csv from SkyPilot catalog (schema v8) files.

usage: catalog/convert.py SRC_DIR > catalog/gpu-prices.csv

SRC_DIR holds aws_vms_gpu_subset.csv, gcp_vms_gpu_subset.csv, lambda_vms.csv and
runpod_vms_gpu_subset.csv (see catalog/README.md for where they come from).
One output row per provider, region and instance type:
  - availability zones are collapsed: the on-demand price is the lowest over the
    region's zones (it is the same in every zone read), the spot price is the lowest
    non-empty spot price over the zones;
  - GCP: a VM row prices the host only and an accelerator row the GPUs only; the
    instance price is host + GPUs in the same zone (a2-ultragpu-Ng with N A100-80GB,
    a3-highgpu-Ng with N H100). Spot = host spot + GPU spot when both are given.
    Accelerator rows whose host VM rows were not read are left out;
  - Lambda has no spot market; RunPod's SpotPrice equals Price in every row read, so
    it is not an interruptible price and is left empty.
Prices are USD per hour. Output is sorted by provider, region, instance type."""
import csv
import sys

HEADER = ["provider", "region", "instance_type", "gpu_name", "gpu_count", "vcpus",
          "memory_gib", "ondemand_usd_per_hour", "spot_usd_per_hour"]

# GCP host families and the accelerator each is sold with (N GPUs for "-Ng").
GCP_HOSTS = {"a2-ultragpu": "A100-80GB", "a3-highgpu": "H100"}


def num(s):
    s = (s or "").strip()
    return float(s) if s else None


def count(s):
    v = num(s)
    return int(v) if v is not None else None


def fmt(v):
    if v is None:
        return ""
    s = "%.6f" % v
    s = s.rstrip("0").rstrip(".")
    return s if s else "0"


def rows_of(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Table:
    def __init__(self):
        self.rows = {}

    def add(self, provider, region, itype, gpu, n, vcpus, mem, price, spot):
        key = (provider, region, itype)
        r = self.rows.get(key)
        if r is None:
            self.rows[key] = dict(gpu=gpu or "", n=n if gpu else None, vcpus=vcpus, mem=mem,
                                  price=price, spot=spot)
            return
        if (r["gpu"], r["n"], r["vcpus"], r["mem"]) != (gpu or "", n if gpu else None,
                                                       vcpus, mem):
            sys.exit("convert.py: %s/%s/%s differs between zones" % key)
        r["price"] = min(r["price"], price)
        if spot is not None:
            r["spot"] = spot if r["spot"] is None else min(r["spot"], spot)

    def write(self, out):
        w = csv.writer(out, lineterminator="\n")
        w.writerow(HEADER)
        for (provider, region, itype) in sorted(self.rows):
            r = self.rows[(provider, region, itype)]
            w.writerow([provider, region, itype, r["gpu"],
                        "" if r["n"] is None else str(r["n"]),
                        fmt(r["vcpus"]), fmt(r["mem"]), fmt(r["price"]), fmt(r["spot"])])


def simple(t, provider, path, spot_ok):
    for r in rows_of(path):
        price = num(r["Price"])
        if price is None:
            continue
        spot = num(r.get("SpotPrice")) if spot_ok else None
        t.add(provider, r["Region"], r["InstanceType"], r["AcceleratorName"],
              count(r["AcceleratorCount"]), num(r["vCPUs"]), num(r["MemoryGiB"]), price, spot)


def gcp(t, path):
    hosts, gpus = [], {}
    for r in rows_of(path):
        if r["InstanceType"]:
            hosts.append(r)
        else:
            gpus[(r["AcceleratorName"], count(r["AcceleratorCount"]),
                  r["AvailabilityZone"])] = r
    for h in hosts:
        family, _, size = h["InstanceType"].rpartition("-")
        gpu = GCP_HOSTS.get(family)
        if gpu is None or not size.endswith("g"):
            continue
        n = int(size[:-1])
        g = gpus.get((gpu, n, h["AvailabilityZone"]))
        if g is None or num(h["Price"]) is None or num(g["Price"]) is None:
            continue
        price = num(h["Price"]) + num(g["Price"])
        hs, gs = num(h["SpotPrice"]), num(g["SpotPrice"])
        spot = hs + gs if hs is not None and gs is not None else None
        t.add("gcp", h["Region"], h["InstanceType"], gpu, n, num(h["vCPUs"]),
              num(h["MemoryGiB"]), round(price, 6), None if spot is None else round(spot, 6))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.splitlines()[2])
    src = sys.argv[1].rstrip("/")
    t = Table()
    simple(t, "aws", src + "/aws_vms_gpu_subset.csv", True)
    gcp(t, src + "/gcp_vms_gpu_subset.csv")
    simple(t, "lambda", src + "/lambda_vms.csv", False)
    simple(t, "runpod", src + "/runpod_vms_gpu_subset.csv", False)
    t.write(sys.stdout)


if __name__ == "__main__":
    main()
