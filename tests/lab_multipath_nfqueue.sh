#!/bin/bash
# lab_multipath_nfqueue.sh - tests/lab_multipath.sh with every agent on NFQUEUE
# (LAB_INPUT=nfqueue makes lab_start_agent add --input nfqueue and wait
# for the queue in /proc/net/netfilter/nfnetlink_queue).
LAB_INPUT=nfqueue exec bash "${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lab_multipath.sh"
