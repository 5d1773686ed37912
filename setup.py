"""Installs the owner's root folders as subpackages of the one import name `netcost` (issue 19): costing/ becomes
`netcost.costing`, model_io/ `netcost.model_io`, gui/ `netcost.gui`, resources/ `netcost.resources`, and netcost/
holds the package itself. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

FOLDERS = ("costing", "model_io", "gui", "resources")

packages = ["netcost"] + [f"netcost.{name}" for name in find_packages(include=[f"{f}*" for f in FOLDERS])]
setup(packages=packages, package_dir={"netcost": "netcost", **{f"netcost.{f}": f for f in FOLDERS}})
