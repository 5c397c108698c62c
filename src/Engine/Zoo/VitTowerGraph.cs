using Amalgam.OnnxIO.Onnx;
using static Amalgam.Engine.Zoo.OnnxGraphWriter;

namespace Amalgam.Engine.Zoo;

/// <summary>
/// The CLIP image tower (Radford et al. 2021, their VisionTransformer) as an ONNX graph written by
/// hand, with only ops our autodiff differentiates: input <c>image</c> [N, 1, 28, 28] float32,
/// <c>conv1</c> (patch embedding, no bias) -> tokens, class token prepended, positional embedding
/// added, <c>ln_pre</c>, pre-LN blocks x += attn(ln_1(x)); x += mlp(ln_2(x)) with multi-head
/// softmax attention and a QuickGELU MLP (u * sigmoid(1.702 u)), <c>ln_post</c> of the class
/// token, <c>proj</c> to the embedding, then a linear head <c>head.weight</c> [C, E] /
/// <c>head.bias</c> [C] to output <c>logits</c> [N, C] (or output <c>features</c> [N, E] without a head).
/// Linear weights are stored [in, out] for MatMul (CLIP's nn.Linear stores [out, in]).
/// </summary>
public static class VitTowerGraph
{
    public const string InputName = "image";
    public const string LogitsName = "logits";
    public const string FeaturesName = "features";
    public const float LayerNormEpsilon = 1e-5f;
    public const float QuickGeluAlpha = 1.702f;

    /// <summary>
    /// The graph with freshly initialised parameters (seeded): linear weights N(0, 1/fan_in), the
    /// residual output projections further scaled by 1/sqrt(2 depth), class token, positional
    /// embedding and proj N(0, 1/width) as CLIP, LayerNorm gamma 1 / beta 0, biases and the head zero.
    /// <paramref name="headName"/> null gives the feature extractor (output <see cref="FeaturesName"/>).
    /// </summary>
    public static OnnxModel Create(VitConfig c, ulong seed, string? headName = "head", int? headClasses = null)
    {
        c.Validate();
        var rng = new SeededRandom(seed);
        var g = new OnnxGraphWriter("vit_tower");
        int d = c.Width, t = c.Tokens, p = c.Patch;
        double residualScale = 1.0 / Math.Sqrt(2.0 * c.Depth);

        string x = g.Input(InputName, 1, c.ImageSide, c.ImageSide);
        string conv = g.Parameter("conv1.weight", [d, 1, p, p], rng.Normal((long)d * p * p, 1.0 / p));
        x = g.Node("Conv", [x, conv], "embed", null, IntList("kernel_shape", p, p), IntList("strides", p, p));
        x = g.Node("Reshape", [x, g.Ints(0, d, c.PatchCount)], "embed");
        x = g.Node("Transpose", [x], "embed", null, IntList("perm", 0, 2, 1));                       // [N, P, D]

        // Class token broadcast to [N, 1, D]: Expand to (N from the image's shape, 1, D).
        string cls = g.Parameter("class_embedding", [d], rng.Normal(d, 1.0 / Math.Sqrt(d)));
        string batch = g.Node("Slice", [g.Node("Shape", [InputName], "cls"), g.Ints(0), g.Ints(1)], "cls");
        string target = g.Node("Concat", [batch, g.Ints(1, d)], "cls", null, Int("axis", 0));
        string clsTokens = g.Node("Expand", [g.Node("Reshape", [cls, g.Ints(1, 1, d)], "cls"), target], "cls");
        x = g.Node("Concat", [clsTokens, x], "tokens", null, Int("axis", 1));                         // [N, T, D]
        string pos = g.Parameter("positional_embedding", [t, d], rng.Normal((long)t * d, 1.0 / Math.Sqrt(d)));
        x = g.Node("Add", [x, pos], "tokens");
        x = LayerNorm(g, x, "ln_pre", d);

        for (int i = 0; i < c.Depth; i++)
        {
            string b = $"blocks.{i}";
            x = g.Node("Add", [x, Attention(g, LayerNorm(g, x, $"{b}.ln_1", d), $"{b}.attn", c, rng, residualScale)], b);
            x = g.Node("Add", [x, Mlp(g, LayerNorm(g, x, $"{b}.ln_2", d), $"{b}.mlp", c, rng, residualScale)], b);
        }

        x = g.Node("Gather", [x, g.IntScalar(0)], "pool", null, Int("axis", 1));                     // class token [N, D]
        x = LayerNorm(g, x, "ln_post", d);
        string proj = g.Parameter("proj", [d, c.EmbedDim], rng.Normal((long)d * c.EmbedDim, 1.0 / Math.Sqrt(d)));
        if (headName is null)
        {
            g.Node("MatMul", [x, proj], "proj", FeaturesName);
            g.Output(FeaturesName, c.EmbedDim);
        }
        else
        {
            x = g.Node("MatMul", [x, proj], "proj");
            int classes = headClasses ?? c.Classes;
            string w = g.Parameter($"{headName}.weight", [classes, c.EmbedDim], new float[classes * c.EmbedDim]);
            string bias = g.Parameter($"{headName}.bias", [classes], new float[classes]);
            g.Node("Gemm", [x, w, bias], headName, LogitsName, Int("transB", 1));
            g.Output(LogitsName, classes);
        }
        return new OnnxModel(g.ToModel(), Path.GetTempPath(), $"vit-{c.Width}x{c.Depth}");
    }

    private static string LayerNorm(OnnxGraphWriter g, string x, string name, int d)
    {
        string gamma = g.Parameter($"{name}.weight", [d], Enumerable.Repeat(1f, d).ToArray());
        string beta = g.Parameter($"{name}.bias", [d], new float[d]);
        return g.Node("LayerNormalization", [x, gamma, beta], name, null, Int("axis", -1), Float("epsilon", LayerNormEpsilon));
    }

    private static string Linear(OnnxGraphWriter g, string x, string name, int fanIn, int fanOut, SeededRandom rng, double scale = 1)
    {
        string w = g.Parameter($"{name}.weight", [fanIn, fanOut], rng.Normal((long)fanIn * fanOut, scale / Math.Sqrt(fanIn)));
        string b = g.Parameter($"{name}.bias", [fanOut], new float[fanOut]);
        return g.Node("Add", [g.Node("MatMul", [x, w], name), b], name);
    }

    /// <summary>softmax(q k^T / sqrt(head_dim)) v per head, heads concatenated, then out_proj.</summary>
    private static string Attention(OnnxGraphWriter g, string x, string name, VitConfig c, SeededRandom rng, double residualScale)
    {
        int d = c.Width, h = c.Heads, hd = c.HeadDim;
        string Heads(string v, params long[] perm) =>
            g.Node("Transpose", [g.Node("Reshape", [v, g.Ints(0, 0, h, hd)], name)], name, null, IntList("perm", perm));
        string q = Heads(Linear(g, x, $"{name}.q_proj", d, d, rng), 0, 2, 1, 3);                      // [N, H, T, hd]
        string k = Heads(Linear(g, x, $"{name}.k_proj", d, d, rng), 0, 2, 3, 1);                      // [N, H, hd, T]
        string v = Heads(Linear(g, x, $"{name}.v_proj", d, d, rng), 0, 2, 1, 3);                      // [N, H, T, hd]
        string scores = g.Node("Mul", [g.Node("MatMul", [q, k], name), g.Scalar((float)(1.0 / Math.Sqrt(hd)))], name);
        string weights = g.Node("Softmax", [scores], name, null, Int("axis", -1));
        string mixed = g.Node("Transpose", [g.Node("MatMul", [weights, v], name)], name, null, IntList("perm", 0, 2, 1, 3));
        mixed = g.Node("Reshape", [mixed, g.Ints(0, 0, d)], name);                                    // [N, T, D]
        return Linear(g, mixed, $"{name}.out_proj", d, d, rng, residualScale);
    }

    /// <summary>c_proj(QuickGELU(c_fc(x))), QuickGELU(u) = u * sigmoid(1.702 u).</summary>
    private static string Mlp(OnnxGraphWriter g, string x, string name, VitConfig c, SeededRandom rng, double residualScale)
    {
        string u = Linear(g, x, $"{name}.c_fc", c.Width, c.MlpWidth, rng);
        string gelu = g.Node("Mul", [u, g.Node("Sigmoid", [g.Node("Mul", [u, g.Scalar(QuickGeluAlpha)], name)], name)], name);
        return Linear(g, gelu, $"{name}.c_proj", c.MlpWidth, c.Width, rng, residualScale);
    }
}
