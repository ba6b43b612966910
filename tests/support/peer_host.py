#!/usr/bin/env python3
import os, subprocess, sys
args = sys.argv[1:]
if args and args[0] in ("--wine-prefix-start", "--wine-prefix-stop"):
    sys.exit(0)
wine = False
if args and args[0] == "--wine":
    wine = True; args = args[1:]
if args and args[0] == "--":
    args = args[1:]
if wine:
    args = ["wine"] + args
sys.exit(subprocess.call(args))
