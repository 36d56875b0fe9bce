"""The registry read on one thread while another imports the family files.

The app's UI thread asks for the catalogue (``list_models``: is the last model still
known?) while a worker builds the first model and so imports every family file. A
half-imported registry once answered: the last model was "unknown" and the app opened
resnet34 instead. Run in a fresh interpreter, where no family file is loaded yet; the
loading thread is held, by an import hook, inside the last family file's import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import importlib.abc, sys, threading
    from explorer import zoo
    from explorer.zoo import registry
    from explorer.zoo.catalogue import load_catalogue

    started, go = threading.Event(), threading.Event()

    class HoldLastFamily(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path, target=None):
            if fullname == "explorer.zoo.xception":
                started.set()
                go.wait(60)
            return None

    sys.meta_path.insert(0, HoldLastFamily())
    loader = threading.Thread(target=registry.load_families)
    loader.start()
    assert started.wait(60), "the loader never reached the last family file"
    try:
        seen = zoo.list_models()
        info = zoo.get_info("xception").name
    finally:
        go.set()
    loader.join(60)
    expected = sorted(load_catalogue().models)
    assert seen == expected, sorted(set(expected) - set(seen))
    assert zoo.list_models() == expected
    print("ok", info)
""")


def test_list_models_is_whole_while_another_thread_loads_the_families():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ok", "xception"]
