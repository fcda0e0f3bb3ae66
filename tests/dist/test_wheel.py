"""The wheel carries the binary: installed from a local file into a fresh
virtual environment with no Rust on PATH, `alembot` runs and checks the
bundled example."""

import zipfile

from .support import (
    ROOT,
    TempDirTest,
    apply_patch,
    cargo_version,
    example_repo,
    new_venv,
    run,
    rustless_path,
    wheel,
)


class WheelTest(TempDirTest):
    def test_the_wheel_is_the_binary_at_cargos_version(self):
        with zipfile.ZipFile(wheel()) as zf:
            names = zf.namelist()
            version = cargo_version()
            self.assertIn(f"alembot-{version}.data/scripts/alembot", names)
            metadata = zf.read(f"alembot-{version}.dist-info/METADATA").decode()
        self.assertIn(f"\nVersion: {version}\n", metadata)
        self.assertIn("\nName: alembot\n", metadata)
        # Nothing importable: the wheel is the command, like ruff's.
        self.assertFalse([n for n in names if n.endswith(".py")], names)

    def test_installed_in_a_fresh_venv_without_rust_it_checks_the_example(self):
        bin_dir = new_venv(self.tmp / "venv", self.env)
        self.env["PATH"] = rustless_path(bin_dir)
        out = run(
            [str(bin_dir / "pip"), "install", "--no-index", "--no-deps", str(wheel())],
            cwd=self.tmp,
            env=self.env,
        )
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertTrue((bin_dir / "alembot").is_file(), "pip put alembot in the venv's bin")

        out = run(["alembot", "--version"], cwd=self.tmp, env=self.env)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), f"alembot {cargo_version()}")

        repo = example_repo(self.tmp / "blog", self.env)
        clean = run(["alembot", "check"], cwd=repo, env=self.env)
        self.assertEqual(clean.returncode, 0, clean.stdout + clean.stderr)

        apply_patch(repo, self.env)
        out = run(["alembot", "check"], cwd=repo, env=self.env)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("missing-migration", out.stdout)
        self.assertIn("blog/models.py", out.stdout)

    def test_pyproject_takes_the_version_from_cargo_toml(self):
        # pyproject.toml takes the version from Cargo.toml, never its own.
        text = (ROOT / "pyproject.toml").read_text()
        self.assertIn('dynamic = ["version"]', text)
        self.assertNotRegex(text, r"(?m)^version\s*=")
