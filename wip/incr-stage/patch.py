"""Applies incr's hooks to the helper package at sys.argv[1]."""
import sys, os
d = sys.argv[1]
p = os.path.join(d, "verifier.py")
s = open(p).read()
old = """                self.add(f)
                return
        filler = DataFiller(self.conn, self.project, self.extra_schemas)"""
assert old in s
s = s.replace(old, """                self.add(f)
                return
        self.at_base_state()
        filler = DataFiller(self.conn, self.project, self.extra_schemas)""", 1)
old = """    # -- project data tests"""
assert old in s
s = s.replace(old, """    def at_base_state(self):
        \"\"\"The data upgrade has built the base state (basestate.Incremental saves it).\"\"\"

    # -- project data tests""", 1)
open(p, "w").write(s)
p = os.path.join(d, "main.py")
s = open(p).read()
old = """        v = Verifier(project, engine, conn, checks, stack)
        v.extra_schemas = tuple(sorted(set(
            s for s in [project.version_table_schema] if s)))
        findings = v.run()
"""
assert old in s
s = s.replace(old, """        v, base = basestate.verifier(Verifier, req, project, engine, conn, checks, stack, versions)
        v.extra_schemas = tuple(sorted(set(
            s for s in [project.version_table_schema] if s)))
        findings = v.run()
        if base is not None:
            result["snapshot"] = base.outcome(v, findings)
""", 1)
s = s.replace("from .verifier import Verifier\n", "from .verifier import Verifier\nfrom . import basestate\n", 1)
open(p, "w").write(s)
