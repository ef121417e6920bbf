from setuptools import find_packages, setup

from legacy_dispatch import __version__ as version

with open("requirements.txt") as f:
	install_requires = f.read().strip().split("\n")

setup(
	name="legacy_dispatch",
	version=version,
	description="Turns the legacy helpdesk's open field tickets into ERPNext Dispatch Jobs",
	author="legacy_dispatch contributors",
	license="MIT",
	packages=find_packages(),
	zip_safe=False,
	package_data={"legacy_dispatch": ["**/*.json", "**/*.js", "**/*.sql", "**/*.txt", "**/*.csv"]},
	install_requires=install_requires,
	python_requires=">=3.10",
)
