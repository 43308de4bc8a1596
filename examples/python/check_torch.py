"""Run PyTorch's softmax, log_softmax, layer_norm, rms_norm and cross_entropy through the law
harness of transformer_laws, in float32 and float64, and print what it finds.

Needs torch (CPU) and the package (`pip install ./python`); not run by CI.

    python examples/python/check_torch.py
"""

import numpy as np
import torch
import torch.nn.functional as F

from transformer_laws import laws

torch.set_num_threads(1)


def t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


CANDIDATES = {
    "softmax": lambda x: F.softmax(t(x), dim=-1).numpy(),
    "log_softmax": lambda x: F.log_softmax(t(x), dim=-1).numpy(),
    "logsumexp": lambda x: torch.logsumexp(t(x), dim=-1).item(),
    "layer_norm": lambda x, eps: F.layer_norm(t(x), (x.shape[-1],), eps=eps).numpy(),
    "rms_norm": lambda x, eps: F.rms_norm(t(x), (x.shape[-1],), eps=eps).numpy(),
    "cross_entropy": lambda z, y: F.cross_entropy(t(z)[None], torch.tensor([y])).item(),
}


def policy_verdict(report):
    differs = [f.law for f in report.failures if f.kind == "policy"]
    return "as documented" if not differs else "differs: " + ", ".join(differs)


def main():
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    summary = []
    for dtype in ["float32", "float64"]:
        for op, fn in CANDIDATES.items():
            # The default policy accepts any documented answer; PyTorch's own is checked too.
            report = laws.check(op, fn, dtype=dtype)
            torch_policy = laws.check(op, fn, dtype=dtype, policy="torch")
            print(report)
            summary.append(
                (
                    f"{op} ({dtype})",
                    "pass" if report.passed else "FAIL: " + ", ".join(report.failed_laws),
                    policy_verdict(torch_policy),
                )
            )
    print("summary: laws and policies with the default settings; special values with policy='torch'")
    for name, verdict, policy in summary:
        print(f"  {name:<24} {verdict:<24} special values {policy}")


if __name__ == "__main__":
    main()
