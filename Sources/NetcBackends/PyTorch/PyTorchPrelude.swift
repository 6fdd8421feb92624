/// The fixed parts of the generated file: helpers a layer may need and the weight loader.
enum PyTorchPrelude {
  /// The source of one helper, as it appears in the generated file.
  static func source(_ helper: TorchHelper) -> String? {
    switch helper {
    case .functional: nil
    case .rotary:
      """
      def rotate(x, theta=10000.0):
          \"\"\"Rotary position embedding of [N, heads, L, D] as netc's `rope` (Hugging Face
          Llama's rotate_half, base theta): channel d < D/2 pairs with d + D/2 and the pair
          turns by position * theta^(-2d/D); the angles in float64.\"\"\"
          length, dim = x.shape[-2], x.shape[-1]
          half = dim // 2
          frequency = theta ** (-torch.arange(half, dtype=torch.float64) * 2 / dim)
          angle = torch.arange(length, dtype=torch.float64)[:, None] * frequency[None, :]
          cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
          x1, x2 = x[..., :half], x[..., half:]
          return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)
      """
    case .attention:
      """
      class Attention(nn.Module):
          \"\"\"Multi-head attention as netc's ATTN: heads of width head_dim, kv_heads key/value
          heads shared by groups of query heads, scores q k^T / sqrt(head_dim), an optional
          causal mask (key j <= query i), keys and values from `memory` with `cross`.\"\"\"

          def __init__(self, width, heads, kv_heads=None, head_dim=None, bias=True, causal=False, rope=False, rope_theta=10000.0,
                       memory_width=None):
              super().__init__()
              self.heads = heads
              self.kv_heads = kv_heads or heads
              self.head_dim = head_dim or width // heads
              self.causal = causal
              self.rope = rope
              self.rope_theta = rope_theta
              memory_width = memory_width or width
              self.q_proj = nn.Linear(width, heads * self.head_dim, bias=bias)
              self.k_proj = nn.Linear(memory_width, self.kv_heads * self.head_dim, bias=bias)
              self.v_proj = nn.Linear(memory_width, self.kv_heads * self.head_dim, bias=bias)
              self.o_proj = nn.Linear(heads * self.head_dim, width, bias=bias)

          def forward(self, x, memory=None):
              memory = x if memory is None else memory
              n, t, s = x.shape[0], x.shape[1], memory.shape[1]
              q = self.q_proj(x).view(n, t, self.heads, self.head_dim).transpose(1, 2)
              k = self.k_proj(memory).view(n, s, self.kv_heads, self.head_dim).transpose(1, 2)
              v = self.v_proj(memory).view(n, s, self.kv_heads, self.head_dim).transpose(1, 2)
              if self.rope:
                  q, k = rotate(q, self.rope_theta), rotate(k, self.rope_theta)
              k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
              v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
              y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
              return self.o_proj(y.transpose(1, 2).reshape(n, t, self.heads * self.head_dim))
      """
    case .rmsNormWithBias:
      """
      class RMSNormWithBias(nn.RMSNorm):
          \"\"\"RMSNorm with a shift after the scale (netc's `RMSNORM bias true`).\"\"\"

          def __init__(self, width, eps):
              super().__init__(width, eps=eps)
              self.bias = nn.Parameter(torch.zeros(width))

          def forward(self, x):
              return super().forward(x) + self.bias
      """
    case .dropPath:
      """
      class DropPath(nn.Module):
          \"\"\"Stochastic depth: while training, zeroes a whole example's branch with
          probability p and scales the rest by 1 / (1 - p); the identity at inference.\"\"\"

          def __init__(self, p):
              super().__init__()
              self.p = p

          def forward(self, x):
              if not self.training or self.p == 0:
                  return x
              keep = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(1 - self.p)
              return x * keep / (1 - self.p)
      """
    case .sinusoidal:
      """
      def sinusoidal_positions(length, width):
          \"\"\"Vaswani et al.'s table as netc's `POSEMBED sinusoidal`: sin at even channels,
          cos at odd ones, of position / 10000^(2i/width); computed in float64.\"\"\"
          position = torch.arange(length, dtype=torch.float64)[:, None]
          even = torch.arange(width, dtype=torch.float64)[None, :] // 2 * 2
          angle = position / 10000.0 ** (even / width)
          table = torch.where(torch.arange(width)[None, :] % 2 == 0, angle.sin(), angle.cos())
          return table.to(torch.float32)
      """
    }
  }

  /// The loader of netc's weight directory.
  static let loader = """
    def load_netc_weights(model, directory, strict=True):
        \"\"\"Copies netc's LAYER.KIND.npy files (as `netc run --weights DIR` reads them) into
        `model`. They are in PyTorch's layouts already (conv [Cout][Cin/groups][k...],
        linear [out][in]); a class token gains its batch and position axes. A mixture's
        expert tensor holds every expert's on a leading axis, and its key's `*` stands for
        the expert's index. With `strict`, a missing file is an error, as netc would fill
        it from its seed; returns the netc names of the files that were missing.\"\"\"
        state = model.state_dict()
        missing = []
        for name, (key, shape) in NETC_TENSORS.items():
            path = os.path.join(directory, name + ".npy")
            if not os.path.exists(path):
                missing.append(name)
                continue
            array = np.load(path)
            if tuple(array.shape) != shape:
                raise ValueError(f"{path}: shape {tuple(array.shape)}, netc's {name} is {shape}")
            parts = [(key.replace("*", str(k)), part) for k, part in enumerate(array)] if "*" in key else [(key, array)]
            with torch.no_grad():
                for part_key, part in parts:
                    state[part_key].copy_(torch.from_numpy(part).reshape(state[part_key].shape))
        if strict and missing:
            raise FileNotFoundError(f"{directory}: no .npy file for " + ", ".join(missing))
        return missing
    """
}
