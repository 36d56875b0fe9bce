"""GPU report: for every zoo model (or those named), the GPU against the CPU.

    python benchmarks/gpu_report.py [--models all | NAME ...] [--repeat 10] [--full]

Per model, random weights (seed 0) and one N(0, 1) input at the zoo's small test size
(``--full``: the model's own input size):
- float32: relative difference of the outputs, CPU vs CUDA, IEEE (the project's runs)
  and with TF32 (PyTorch's default for convolutions); top-5 (classification) or mask
  (segmentation) the same;
- float16 and bfloat16 on CUDA: finite, relative difference to the CPU's float32, top-1
  or mask pixels that agree;
- Grad-CAM on CUDA: the largest difference to the CPU's map (classification);
- capture of every node vs a plain forward on CUDA: medians of alternating runs, ratio;
- peak memory of capture-all (torch's allocator).
Without CUDA it says why and exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SMALL = {"inception_v3": 96, "xception": 96, "unet": 188, "deconvnet": 224, "segnet": 64,
         "lenet5": 32}


def _agree(task: str, ref, out) -> str:
    if task == "classification":
        same = int((ref[0].topk(5).indices == out[0].topk(5).indices).all())
        return "top-5 same" if same else "top-5 differs"
    share = float((ref.argmax(1) == out.argmax(1)).float().mean())
    return "mask same" if share == 1 else f"mask {100 * share:.2f} %"


def report(name: str, full: bool, repeat: int) -> str:
    import torch

    from explorer import zoo
    from explorer.graph import trace
    from explorer.inference.capture import capture
    from explorer.inference.precision import float32_math
    from explorer.inference.predictions import grad_cam, main_output

    info = zoo.get_info(name)
    torch.manual_seed(0)
    model = zoo.build(name).eval()
    shape = zoo.input_shape(name)
    if not full:
        size = 32 if "_cifar" in name else SMALL.get(name, 64)
        shape = (1, shape[1], size, size)
    x = torch.randn(shape)
    graph = trace(model, shape, name=name)

    def run(m, xx, tf32=False):
        with torch.inference_mode(), float32_math(tf32):
            return main_output(m(xx)).float().cpu()

    def rel(a, b) -> float:
        return float((a - b).norm() / a.norm())

    cpu = run(model, x)
    cam_layer = [graph.node(n)["path"] for n in graph.nodes() if graph.node(n)["kind"] ==
                 "module" and len(graph.node(n).get("out_shape", ())) == 4
                 and min(graph.node(n)["out_shape"][2:]) > 1][-1]
    cam_cpu = grad_cam(model, x, cam_layer)[0] if info.task == "classification" else None
    model.to("cuda")
    xc = x.to("cuda")
    ieee, tf32 = run(model, xc), run(model, xc, tf32=True)
    cols = [name, "x".join(map(str, shape)), f"{rel(cpu, ieee):.1e}", f"{rel(cpu, tf32):.1e}",
            _agree(info.task, cpu, ieee)]
    for dtype in (torch.float16, torch.bfloat16):
        half = run(model.to(dtype), xc.to(dtype))
        cols.append(f"{rel(cpu, half):.1e}, {_agree(info.task, cpu, half)}"
                    if bool(torch.isfinite(half).all()) else "not finite")
    model.float()
    cols.append(f"{float(abs(grad_cam(model, xc, cam_layer)[0] - cam_cpu).max()):.1e}"
                if cam_cpu is not None else "")
    times = {"plain": [], "capture": []}
    kept = [0]

    def plain():
        model(xc)

    def capture_all():
        kept[0] = capture(model, xc, graph, "all", budget_mb=None).nbytes

    for fn in (plain, capture_all):
        with torch.inference_mode():
            fn()  # warm-up
    torch.cuda.reset_peak_memory_stats()
    for _ in range(repeat):
        for label, fn in (("plain", plain), ("capture", capture_all)):
            with torch.inference_mode():
                torch.cuda.synchronize()
                t = time.perf_counter()
                fn()
                torch.cuda.synchronize()
                times[label].append(time.perf_counter() - t)
    p, c = (1000 * statistics.median(times[k]) for k in ("plain", "capture"))
    ratio = statistics.median(b / a for a, b in zip(times["plain"], times["capture"]))
    cols += [f"{p:.2f}", f"{c:.2f}", f"{ratio:.2f}",
             f"{torch.cuda.max_memory_allocated() / 2**20:.0f}"]
    return "| " + " | ".join(cols) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=["all"])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--full", action="store_true", help="the models' own input sizes")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        built = torch.version.cuda or "no CUDA (a CPU build)"
        print(f"gpu_report: no CUDA device here (torch {torch.__version__}, built with "
              f"{built}); nothing to compare. Run it on a machine with an NVIDIA GPU.")
        return 0
    from explorer import zoo

    models = zoo.list_models() if args.models == ["all"] else args.models
    print(f"GPU: {torch.cuda.get_device_name()}; torch {torch.__version__} (CUDA "
          f"{torch.version.cuda}); {time.strftime('%Y-%m-%d')}; medians of {args.repeat} "
          "alternating runs")
    print("| model | input | fp32 rel. diff | with TF32 | fp32 agrees | float16 | bfloat16 | "
          "Grad-CAM max diff | plain ms | capture-all ms | ratio | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    failed = 0
    for name in models:
        try:
            print(report(name, args.full, args.repeat), flush=True)
            torch.cuda.empty_cache()  # the model is gone with report()'s frame
        except Exception as exc:  # noqa: BLE001  (one model's failure is a row, not the end)
            failed += 1
            print(f"| {name} | failed: {type(exc).__name__}: "
                  f"{str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ''} |",
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
