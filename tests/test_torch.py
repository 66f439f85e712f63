"""Gradients (21)/(22) and (23)/(24) against torch autograd, in float64."""

import numpy as np
import pytest

from conftest import ORACLE_FACTOR, assert_close, assert_lists_close, make_case

torch = pytest.importorskip(
    "torch", reason="torch is needed to compare with autograd; install the compare extra: "
                    "pip install -e .[compare]")

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_pass(net, X, Y):
    """Forward, cost and autograd gradients of the same network in torch."""
    ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in net.weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in net.biases]
    a = torch.tensor(np.asarray(X, dtype=np.float64))
    target = torch.tensor(np.asarray(Y, dtype=np.float64))
    z = None
    for w, b, name in zip(ws, bs, net.activations):
        z = a @ w + b
        a = ACTIVATIONS[name](z)
    if net.loss == "sse":
        cost = torch.nn.MSELoss(reduction="sum")(a, target)
    elif net.loss == "mse":
        cost = torch.nn.MSELoss(reduction="mean")(a, target)
    else:                       # on the logits z, with probability targets
        cost = torch.nn.CrossEntropyLoss(reduction="sum")(z, target)
    cost.backward()
    return (a.detach().numpy(), float(cost.detach()), [w.grad.numpy() for w in ws],
            [b.grad.numpy() for b in bs])


CASES = [
    # widths, batch, activations, loss
    ([3, 3, 2], 2, ["sigmoid", "sigmoid"], "sse"),
    ([5, 8, 4], 11, ["tanh", "identity"], "mse"),
    ([4, 7, 6, 3], 20, ["relu", "sigmoid", "softmax"], "cross_entropy"),
    ([6, 5, 5, 5, 2], 9, ["sigmoid", "tanh", "relu", "softmax"], "sse"),
    ([10, 12, 4], 30, ["identity", "softmax"], "mse"),
    ([2, 1, 3], 5, ["tanh", "softmax"], "cross_entropy"),
    ([40, 3], 50, ["relu"], "sse"),
    ([7, 9, 8, 6, 1], 13, ["tanh", "relu", "identity", "sigmoid"], "mse"),
    ([8, 16, 10], 25, ["sigmoid", "softmax"], "cross_entropy"),
]


@pytest.fixture(params=CASES, ids=lambda c: f"{'-'.join(map(str, c[0]))}_{'/'.join(c[2])}_{c[3]}")
def case(request):
    widths, batch, acts, loss = request.param
    rng = np.random.default_rng(sum(widths) * 1000 + batch)
    net, X, Y = make_case(rng, widths=widths, batch=batch, activations=acts, loss=loss)
    return (net, X, Y) + torch_pass(net, X, Y)


def test_cases_cover_every_activation_and_loss():
    assert {a for c in CASES for a in c[2]} == set(ACTIVATIONS)
    assert {c[3] for c in CASES} == {"sse", "mse", "cross_entropy"}


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_forward_and_cost_match_torch_2_5_6_11(case, backend):
    net, X, Y, out, cost, _, _ = case
    assert_close(net.forward(X, backend=backend), out, "float64", ORACLE_FACTOR, "forward")
    assert_close(net.cost(X, Y, backend=backend), cost, "float64", ORACLE_FACTOR, "cost")


def test_gradients_loops_match_torch_21_22(case):
    net, X, Y, _, _, grad_w, grad_b = case
    got_w, got_b = net.gradients(X, Y, backend="loops")
    assert_lists_close(got_w, grad_w, "float64", ORACLE_FACTOR, "dC/dw (21)")
    assert_lists_close(got_b, grad_b, "float64", ORACLE_FACTOR, "dC/db (22)")


def test_gradients_vectorized_match_torch_23_24(case):
    net, X, Y, _, _, grad_w, grad_b = case
    got_w, got_b = net.gradients(X, Y, backend="vectorized")
    assert_lists_close(got_w, grad_w, "float64", ORACLE_FACTOR, "dC/dw (23)")
    assert_lists_close(got_b, grad_b, "float64", ORACLE_FACTOR, "dC/db (24)")


def test_cross_entropy_soft_targets_match_torch_13():
    """Probability targets (rows need not sum to 1), as CrossEntropyLoss accepts them."""
    rng = np.random.default_rng(5)
    net, X, _ = make_case(rng, widths=[4, 6, 5], batch=10, activations=["tanh", "softmax"],
                          loss="cross_entropy")
    Y = rng.random((10, 5))
    Y[3] = 0
    _, cost, grad_w, grad_b = torch_pass(net, X, Y)
    for backend in ("loops", "vectorized"):
        assert_close(net.cost(X, Y, backend=backend), cost, "float64", ORACLE_FACTOR, "cost")
        got_w, got_b = net.gradients(X, Y, backend=backend)
        assert_lists_close(got_w, grad_w, "float64", ORACLE_FACTOR, f"{backend} dC/dw")
        assert_lists_close(got_b, grad_b, "float64", ORACLE_FACTOR, f"{backend} dC/db")


def test_one_sgd_step_matches_torch_optimizer_21_22():
    """fit(epochs=1) full batch is one torch.optim.SGD step on the summed cost."""
    rng = np.random.default_rng(6)
    net, X, Y = make_case(rng, widths=[3, 6, 2], batch=8, activations=["tanh", "sigmoid"],
                          loss="sse")
    ws = [torch.tensor(w, requires_grad=True) for w in net.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
    opt = torch.optim.SGD(ws + bs, lr=0.1)
    a = torch.tensor(X)
    for w, b, name in zip(ws, bs, net.activations):
        a = ACTIVATIONS[name](a @ w + b)
    torch.nn.MSELoss(reduction="sum")(a, torch.tensor(Y)).backward()
    opt.step()
    for backend in ("loops", "vectorized"):
        twin = type(net).from_params(net.weights, net.biases, list(net.activations), "sse")
        twin.fit(X, Y, learning_rate=0.1, epochs=1, backend=backend)
        assert_lists_close(twin.weights, [w.detach().numpy() for w in ws], "float64",
                           ORACLE_FACTOR, f"{backend} weights")
        assert_lists_close(twin.biases, [b.detach().numpy() for b in bs], "float64",
                           ORACLE_FACTOR, f"{backend} biases")
