#!/usr/bin/env python3
"""Generates a synthetic repository for armfix's benchmark (scripts/bench.sh).

    gen_repo.py repo  OUT --files 10000 --size-mb 200 --seed 7 [--fix-rate 0.05]
    gen_repo.py big   OUT.json --size-mb 20 --clusters 200 --seed 7

`repo` writes about --files files totalling about --size-mb MB into OUT, in project folders
of about 100 files: ARM templates with AKS clusters (a --fix-rate share of all files hold a
cluster that fails Azure.AKS.SecretStoreRotation, as many again hold clusters that pass),
templates without clusters (some only reference managedClusters by resource id), parameter
files, other JSON (package.json, data files, lock files), YAML (workflows, Kubernetes
manifests) and source files (.py, .ts, .cs, .md). Each project has a .gitignore that ignores
its node_modules/ folder, which holds more JSON. Styles vary: indent 2, 4 or tabs, LF or CRLF.

`big` writes one deployment template of about --size-mb MB with --clusters clusters that all
fail the rule (missing config, empty config, "false"), among filler resources.

Output is a function of the arguments only (seeded; no clock, no set ordering). It prints a
one-line summary: files, bytes, files needing a fix, clusters needing a fix.
"""

import argparse
import json
import os
import random
import sys

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
PARAMS_SCHEMA = (
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
)
WORDS = (
    "alpha beta gamma delta network storage cluster vault secret rotation identity policy "
    "subnet gateway ingress frontend backend worker queue metric alert region tenant scale "
    "deploy release build artifact module resource group location tag owner cost centre"
).split()


def word(rng):
    return rng.choice(WORDS)


def name(rng, n=2):
    return "-".join(word(rng) for _ in range(n)) + str(rng.randrange(100))


def sentence(rng, n=12):
    return " ".join(word(rng) for _ in range(n)).capitalize() + "."


# --- ARM resources -------------------------------------------------------------------------


def storage_account(rng):
    return {
        "type": "Microsoft.Storage/storageAccounts",
        "apiVersion": "2023-01-01",
        "name": "[format('st{0}', uniqueString(resourceGroup().id, '%s'))]" % name(rng),
        "location": "[parameters('location')]",
        "sku": {"name": rng.choice(["Standard_LRS", "Standard_GRS", "Premium_LRS"])},
        "kind": "StorageV2",
        "tags": {"owner": name(rng), "costCentre": str(rng.randrange(1000, 9999))},
        "properties": {
            "minimumTlsVersion": "TLS1_2",
            "supportsHttpsTrafficOnly": True,
            "allowBlobPublicAccess": False,
            "networkAcls": {
                "defaultAction": "Deny",
                "bypass": "AzureServices",
                "ipRules": [
                    {"value": "10.%d.%d.0/24" % (rng.randrange(256), rng.randrange(256)),
                     "action": "Allow"}
                    for _ in range(rng.randrange(1, 6))
                ],
            },
        },
    }


def vnet(rng):
    return {
        "type": "Microsoft.Network/virtualNetworks",
        "apiVersion": "2023-04-01",
        "name": name(rng),
        "location": "[parameters('location')]",
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.%d.0.0/16" % rng.randrange(256)]},
            "subnets": [
                {
                    "name": name(rng, 1),
                    "properties": {
                        "addressPrefix": "10.%d.%d.0/24" % (rng.randrange(256), i),
                        "privateEndpointNetworkPolicies": "Disabled",
                        "networkSecurityGroup": {
                            "id": "[resourceId('Microsoft.Network/networkSecurityGroups', '%s')]"
                            % name(rng)
                        },
                    },
                }
                for i in range(rng.randrange(2, 8))
            ],
        },
    }


def nsg(rng):
    return {
        "type": "Microsoft.Network/networkSecurityGroups",
        "apiVersion": "2023-04-01",
        "name": name(rng),
        "location": "[parameters('location')]",
        "properties": {
            "securityRules": [
                {
                    "name": "rule-%d" % i,
                    "properties": {
                        "description": sentence(rng, 8),
                        "protocol": rng.choice(["Tcp", "Udp", "*"]),
                        "sourcePortRange": "*",
                        "destinationPortRange": str(rng.choice([22, 80, 443, 3389, 8080])),
                        "sourceAddressPrefix": "VirtualNetwork",
                        "destinationAddressPrefix": "*",
                        "access": rng.choice(["Allow", "Deny"]),
                        "priority": 100 + i * 10,
                        "direction": rng.choice(["Inbound", "Outbound"]),
                    },
                }
                for i in range(rng.randrange(3, 12))
            ]
        },
    }


def role_assignment(rng):
    # Mentions managedClusters without being a cluster: parsed, nothing to fix.
    return {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": "[guid(resourceGroup().id, '%s')]" % name(rng),
        "properties": {
            "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
            "'4633458b-17de-408a-b874-0445c86b69e6')]",
            "principalId": "[reference(resourceId('Microsoft.ContainerService/managedClusters', "
            "parameters('clusterName')), '2024-02-01').identityProfile.kubeletidentity.objectId]",
            "principalType": "ServicePrincipal",
        },
    }


FILLERS = [storage_account, vnet, nsg]


def cluster(rng, state):
    """An AKS cluster. state: 'missing' | 'empty' | 'false' (fail) or 'pass' | 'off' | 'none'."""
    addons = {
        "omsagent": {
            "enabled": True,
            "config": {"logAnalyticsWorkspaceResourceID": "[parameters('workspaceId')]"},
        },
        "azurepolicy": {"enabled": rng.choice([True, False])},
    }
    kv = {"enabled": True}
    if state == "empty":
        kv["config"] = {}
    elif state == "false":
        kv["config"] = {"enableSecretRotation": "false", "rotationPollInterval": "2m"}
    elif state == "pass":
        kv["config"] = {"enableSecretRotation": "true", "rotationPollInterval": "2m"}
    elif state == "off":
        kv = {"enabled": False}
    if state != "none":
        addons["azureKeyvaultSecretsProvider"] = kv
    return {
        "type": "Microsoft.ContainerService/managedClusters",
        "apiVersion": "2024-02-01",
        "name": "[parameters('clusterName')]",
        "location": "[parameters('location')]",
        "identity": {"type": "SystemAssigned"},
        "sku": {"name": "Base", "tier": "Standard"},
        "properties": {
            "kubernetesVersion": "1.29",
            "dnsPrefix": name(rng),
            "enableRBAC": True,
            "agentPoolProfiles": [
                {
                    "name": "pool%d" % i,
                    "count": rng.randrange(1, 10),
                    "vmSize": "Standard_D4s_v5",
                    "osType": "Linux",
                    "mode": "System" if i == 0 else "User",
                    "availabilityZones": ["1", "2", "3"],
                    "vnetSubnetID": "[parameters('subnetId')]",
                }
                for i in range(rng.randrange(1, 4))
            ],
            "networkProfile": {
                "networkPlugin": "azure",
                "networkPolicy": "calico",
                "loadBalancerSku": "standard",
            },
            "addonProfiles": addons,
        },
    }


def parameters_block(rng, n):
    out = {
        "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
        "clusterName": {"type": "string", "defaultValue": name(rng)},
        "workspaceId": {"type": "string"},
        "subnetId": {"type": "string"},
    }
    for i in range(n):
        out["p%d%s" % (i, word(rng))] = {
            "type": "string",
            "defaultValue": name(rng),
            "metadata": {"description": sentence(rng)},
        }
    return out


def template(rng, target, clusters=(), extra=()):
    """A template of about `target` bytes (compact estimate) holding the given clusters."""
    resources = list(extra) + list(clusters)
    size = sum(len(json.dumps(r)) for r in resources) + 600
    while size < target:
        r = rng.choice(FILLERS)(rng)
        size += len(json.dumps(r))
        resources.insert(rng.randrange(len(resources) + 1), r)
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": parameters_block(rng, rng.randrange(2, 8)),
        "variables": {"prefix": name(rng)},
        "resources": resources,
        "outputs": {"id": {"type": "string", "value": "[resourceGroup().id]"}},
    }


def render_json(rng, doc):
    indent = rng.choice([2, 2, 2, 4, "\t"])
    text = json.dumps(doc, indent=indent, ensure_ascii=False) + "\n"
    if rng.random() < 0.15:
        text = text.replace("\n", "\r\n")
    return text


# --- other files -----------------------------------------------------------------------------


def parameter_file(rng, target, aks):
    params = {}
    if aks:
        params["aksResourceId"] = {
            "value": "/subscriptions/%s/resourceGroups/%s/providers/"
            "Microsoft.ContainerService/managedClusters/%s"
            % ("0000-1111", name(rng), name(rng))
        }
    size = 0
    while size < target:
        value = sentence(rng, 6)
        params["%s%d" % (word(rng), len(params))] = {"value": value}
        size += len(value) + 40
    return {"$schema": PARAMS_SCHEMA, "contentVersion": "1.0.0.0", "parameters": params}


def data_json(rng, target):
    rows, size = [], 0
    while size < target:
        row = {"id": len(rows), "name": name(rng), "score": rng.random(), "tags": [word(rng)]}
        size += len(json.dumps(row)) + 4
        rows.append(row)
    return {"version": 1, "rows": rows}


def package_json(rng, target):
    deps = {}
    size = 0
    while size < target:
        key = "%s-%s-%d" % (word(rng), word(rng), len(deps))
        deps[key] = "^%d.%d.%d" % (rng.randrange(10), rng.randrange(30), rng.randrange(30))
        size += len(key) + 16
    return {"name": name(rng), "version": "1.0.0", "private": True, "dependencies": deps}


def yaml_file(rng, target, aks):
    lines = ["name: %s" % name(rng), "on:", "  push:", "    branches: [main]", "jobs:"]
    i = 0
    size = 0
    while size < target:
        size += 190
        lines += [
            "  job%d:" % i,
            "    runs-on: ubuntu-latest",
            "    steps:",
            "      - uses: actions/checkout@v4",
            "      - name: %s" % sentence(rng, 5),
            "        run: echo %s" % name(rng),
        ]
        i += 1
    if aks:
        lines.append("      - run: az resource list --resource-type Microsoft.ContainerService/managedClusters")
    return "\n".join(lines) + "\n"


def source_file(rng, target, ext):
    comment = {"py": "#", "ts": "//", "cs": "//", "md": ""}[ext]
    lines, size, i = [], 0, 0
    while size < target:
        if ext == "md":
            line = sentence(rng, rng.randrange(6, 20))
        elif ext == "py":
            line = "def f_%d(x):\n    return x + %d  %s %s" % (i, i, comment, sentence(rng, 4))
        else:
            line = "function f%d(x: number) { return x * %d; } %s %s" % (i, i, comment, sentence(rng, 4))
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


# --- layouts ---------------------------------------------------------------------------------


def sizes(rng, n, total):
    """n positive sizes summing to about total, with a long tail."""
    raw = [rng.lognormvariate(0, 1.0) for _ in range(n)]
    scale = total / sum(raw)
    return [max(200, int(r * scale)) for r in raw]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return len(text.encode("utf-8"))


def gen_repo(out, files, size_mb, seed, fix_rate):
    rng = random.Random(seed)
    n_fix = round(files * fix_rate)
    n_pass = n_fix
    kinds = ["fix"] * n_fix + ["pass"] * n_pass
    rest = files - len(kinds)
    mix = [
        ("template", 0.20), ("template-ref", 0.04), ("params", 0.10), ("params-aks", 0.02),
        ("package", 0.05), ("data", 0.08), ("ignored", 0.06), ("yaml", 0.10),
        ("yaml-aks", 0.01), ("py", 0.12), ("ts", 0.12), ("cs", 0.05), ("md", 0.05),
    ]
    total_w = sum(w for _, w in mix)
    for k, w in mix:
        kinds += [k] * round(rest * w / total_w)
    while len(kinds) < files:
        kinds.append("md")
    kinds = kinds[:files]
    rng.shuffle(kinds)
    targets = sizes(rng, files, size_mb * 1_000_000 * 0.9)
    total = fix_files = fix_clusters = 0
    per_project = 100
    for i, (kind, target) in enumerate(zip(kinds, targets)):
        project = os.path.join(out, "proj%04d" % (i // per_project))
        if i % per_project == 0:
            total += write(os.path.join(project, ".gitignore"), "node_modules/\n*.log\n")
        j = i % per_project
        if kind in ("fix", "pass"):
            n = rng.choice([1, 1, 1, 2, 3])
            if kind == "fix":
                states = [rng.choice(["missing", "empty", "false"])] + [
                    rng.choice(["missing", "pass", "off", "none"]) for _ in range(n - 1)]
                fix_files += 1
                fix_clusters += sum(s in ("missing", "empty", "false") for s in states)
            else:
                states = [rng.choice(["pass", "off", "none"]) for _ in range(n)]
            doc = template(rng, target * 0.8, [cluster(rng, s) for s in states])
            path = os.path.join(project, "infra", "aks%d.json" % j)
            total += write(path, render_json(rng, doc))
        elif kind == "template":
            doc = template(rng, target * 0.8)
            total += write(os.path.join(project, "infra", "main%d.json" % j), render_json(rng, doc))
        elif kind == "template-ref":
            doc = template(rng, target * 0.8, extra=[role_assignment(rng)])
            total += write(os.path.join(project, ".azure", "roles%d.json" % j), render_json(rng, doc))
        elif kind in ("params", "params-aks"):
            doc = parameter_file(rng, target * 0.8, kind == "params-aks")
            path = os.path.join(project, "infra", "main%d.parameters.json" % j)
            total += write(path, render_json(rng, doc))
        elif kind == "package":
            doc = package_json(rng, target * 0.8)
            total += write(os.path.join(project, "app%d" % j, "package.json"), render_json(rng, doc))
        elif kind == "data":
            doc = data_json(rng, target * 0.7)
            total += write(os.path.join(project, "data", "set%d.json" % j), render_json(rng, doc))
        elif kind == "ignored":
            doc = package_json(rng, target * 0.8)
            path = os.path.join(project, "node_modules", "pkg%d" % j, "package.json")
            total += write(path, json.dumps(doc, indent=2))
        elif kind in ("yaml", "yaml-aks"):
            path = os.path.join(project, ".github", "workflows", "ci%d.yml" % j)
            total += write(path, yaml_file(rng, target, kind == "yaml-aks"))
        else:
            path = os.path.join(project, "src" if kind != "md" else "docs", "f%d.%s" % (j, kind))
            total += write(path, source_file(rng, target, kind))
    print("files=%d bytes=%d fix_files=%d fix_clusters=%d" % (files, total, fix_files, fix_clusters))


def gen_big(out, size_mb, clusters, seed):
    rng = random.Random(seed)
    states = ["missing", "empty", "false"]
    cl = [cluster(rng, states[i % 3]) for i in range(clusters)]
    per = (size_mb * 1_000_000 * 0.62) / clusters  # pretty-printing adds roughly 80%
    resources = []
    for c in cl:
        resources.append(c)
        size = 0
        while size < per:
            r = rng.choice(FILLERS)(rng)
            size += len(json.dumps(r))
            resources.append(r)
    doc = {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": parameters_block(rng, 10),
        "resources": resources,
    }
    text = json.dumps(doc, indent=2) + "\n"
    n = write(out, text)
    print("files=1 bytes=%d fix_files=1 fix_clusters=%d" % (n, clusters))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["repo", "big"])
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--size-mb", type=float, default=200)
    ap.add_argument("--clusters", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fix-rate", type=float, default=0.05)
    a = ap.parse_args()
    if os.path.exists(a.out):
        sys.exit("gen_repo.py: %s exists; remove it first" % a.out)
    if a.mode == "repo":
        gen_repo(a.out, a.files, a.size_mb, a.seed, a.fix_rate)
    else:
        gen_big(a.out, a.size_mb, a.clusters, a.seed)


if __name__ == "__main__":
    main()
