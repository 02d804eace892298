"""Node positions for the report's drawings: a force layout and a tree layout.

networkx's spring layout loops in Python over nodes for graphs above 500
nodes, which takes tens of seconds for the 2,000-node samples drawn here. The
force layout below is Fruchterman-Reingold (1991) with every step vectorized:
attraction along all edges, repulsion against a random sample of nodes per
node (scaled to the full sum), a linearly cooling temperature and a weak pull
to the centre that keeps components together. Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np


def force_layout(
    src: np.ndarray,
    dst: np.ndarray,
    n: int,
    *,
    iterations: int = 120,
    partners: int = 64,
    seed: int = 0,
) -> np.ndarray:
    """Positions ``(n, 2)`` in about [-1, 1]² for an undirected graph on nodes ``0..n-1``.

    Parameters
    ----------
    src, dst
        Edge end points (local node numbers).
    n
        Number of nodes.
    iterations
        Cooling steps.
    partners
        Nodes each node is repelled by per step; all nodes when ``n <= partners``.
    seed
        Seed of the initial positions and of the repulsion samples.
    """
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-1.0, 1.0, size=(n, 2))
    if n <= 1:
        return np.zeros((n, 2))
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    k = 2.0 / np.sqrt(n)  # ideal edge length in a 2 x 2 box
    exact = n <= partners
    temperature = 0.2
    for it in range(iterations):
        if exact:
            delta = pos[:, None, :] - pos[None, :, :]
            scale = 1.0
        else:
            others = rng.integers(0, n, size=(n, partners))
            delta = pos[:, None, :] - pos[others]
            scale = (n - 1) / partners
        dist2 = np.maximum(np.einsum("ijk,ijk->ij", delta, delta), 1e-6)
        disp = scale * np.einsum("ijk,ij->ik", delta, k * k / dist2)
        edge = pos[src] - pos[dst]
        pull = edge * (np.sqrt(np.einsum("ij,ij->i", edge, edge)) / k)[:, None]
        for axis in (0, 1):
            disp[:, axis] -= np.bincount(src, weights=pull[:, axis], minlength=n)
            disp[:, axis] += np.bincount(dst, weights=pull[:, axis], minlength=n)
        disp -= 0.05 * pos * np.sqrt(n)  # gravity
        length = np.maximum(np.sqrt(np.einsum("ij,ij->i", disp, disp)), 1e-9)
        step = temperature * (1.0 - it / iterations) + 1e-3
        pos += disp * (np.minimum(length, step) / length)[:, None]
    pos -= pos.mean(axis=0)
    extent = np.abs(pos).max()
    return pos / extent if extent > 0 else pos


def tree_layout(parent: np.ndarray) -> np.ndarray:
    """Positions ``(n, 2)`` of a rooted tree: x is the depth, y spreads the leaves.

    ``parent[i]`` is the row of node ``i``'s parent, -1 for the root (row order
    is free). Leaves get consecutive y in depth-first order and every inner
    node sits at the middle of its children, as in a dendrogram.
    """
    parent = np.asarray(parent, dtype=np.int64)
    n = len(parent)
    pos = np.zeros((n, 2))
    if n == 0:
        return pos
    order = np.argsort(parent, kind="stable")
    starts = np.searchsorted(parent[order], np.arange(-1, n + 1))
    children = [order[starts[i + 1]:starts[i + 2]] for i in range(n)]
    roots = order[starts[0]:starts[1]]
    leaf = 0.0
    stack = [(int(r), 0, False) for r in roots[::-1]]
    while stack:  # iterative post-order walk (trees are at most a few thousand nodes)
        node, depth, done = stack.pop()
        kids = children[node]
        pos[node, 0] = depth
        if not len(kids):
            pos[node, 1] = leaf
            leaf += 1.0
        elif done:
            pos[node, 1] = 0.5 * (pos[kids[0], 1] + pos[kids[-1], 1])
        else:
            stack.append((node, depth, True))
            stack.extend((int(c), depth + 1, False) for c in kids[::-1])
    return pos
