namespace Amalgam.Engine.LayerInputs;

/// <summary>
/// A linear op y = x W whose weight is a shared 2-D initializer: a MatMul(x, W) or Gemm(x, B) (also
/// through a Transpose of the initializer). <paramref name="Input"/> is the graph value x (its last
/// axis has <paramref name="DIn"/> entries, every other axis counts as tokens). W is d_in x d_out;
/// when <paramref name="StoredTransposed"/> the initializer holds W^T (d_out x d_in), as Gemm with
/// transB=1 stores torch's Linear weight.
/// </summary>
public sealed record LinearOp(string Node, string Weight, string Input, int DIn, int DOut, bool StoredTransposed);

/// <summary>
/// A layer normalisation over the last axis whose scale gamma is a shared 1-D initializer
/// (<paramref name="Scale"/>, <paramref name="Dim"/> entries). <paramref name="Value"/> is the graph
/// value to fetch: the normalised input x_hat itself (<paramref name="IsNormalized"/>; the Div of
/// torch's decomposed pattern at opset &lt; 17), or the op's input x (LayerNormalization), which is
/// normalised here with <paramref name="Epsilon"/> as the op does.
/// </summary>
public sealed record NormOp(string Node, string Scale, string? Bias, string Value, bool IsNormalized, float Epsilon, int Dim);
