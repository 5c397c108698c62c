using Amalgam.Engine.Zoo;

namespace Amalgam.Engine.Tests.Zoo;

/// <summary>
/// The CLIP ViT forward pass written out in float64 from its definition (patch conv, class token,
/// positional embedding, ln_pre, pre-LN blocks with multi-head softmax attention and a QuickGELU
/// MLP, ln_post of the class token, proj, linear head), over named parameters; linear weights [in, out].
/// </summary>
internal sealed class VitReference(VitConfig c, IReadOnlyDictionary<string, double[]> p)
{
    /// <summary>Logits [n, classes] for images [n, 28, 28].</summary>
    public double[][] Logits(double[] images, int n, int classes)
    {
        var result = new double[n][];
        for (int i = 0; i < n; i++) result[i] = Head(Features(images.AsSpan(i * 784, 784).ToArray()), classes);
        return result;
    }

    public double[] Features(double[] image)
    {
        int d = c.Width, t = c.Tokens, ps = c.Patch, g = c.GridSide;
        var x = new double[t][];
        var conv = p["conv1.weight"];
        x[0] = (double[])p["class_embedding"].Clone();
        for (int gy = 0; gy < g; gy++)
            for (int gx = 0; gx < g; gx++)
            {
                var e = new double[d];
                for (int k = 0; k < d; k++)
                    for (int ky = 0; ky < ps; ky++)
                        for (int kx = 0; kx < ps; kx++)
                            e[k] += conv[(k * ps + ky) * ps + kx] * image[(gy * ps + ky) * 28 + gx * ps + kx];
                x[1 + gy * g + gx] = e;
            }
        var pos = p["positional_embedding"];
        for (int i = 0; i < t; i++)
            for (int k = 0; k < d; k++) x[i][k] += pos[i * d + k];
        x = x.Select(v => LayerNorm(v, "ln_pre")).ToArray();
        for (int b = 0; b < c.Depth; b++)
        {
            string name = $"blocks.{b}";
            var attn = Attention(x.Select(v => LayerNorm(v, $"{name}.ln_1")).ToArray(), $"{name}.attn");
            for (int i = 0; i < t; i++) x[i] = Add(x[i], attn[i]);
            for (int i = 0; i < t; i++)
            {
                var u = Linear(LayerNorm(x[i], $"{name}.ln_2"), $"{name}.mlp.c_fc");
                var gelu = u.Select(v => v / (1 + Math.Exp(-1.702 * v))).ToArray();
                x[i] = Add(x[i], Linear(gelu, $"{name}.mlp.c_proj"));
            }
        }
        var pooled = LayerNorm(x[0], "ln_post");
        return MatVec(pooled, p["proj"], d, c.EmbedDim);
    }

    public double[] Head(double[] features, int classes)
    {
        var w = p["head.weight"];
        var b = p["head.bias"];
        var logits = new double[classes];
        for (int k = 0; k < classes; k++)
        {
            double s = b[k];
            for (int j = 0; j < features.Length; j++) s += w[k * features.Length + j] * features[j];
            logits[k] = s;
        }
        return logits;
    }

    private double[][] Attention(double[][] h, string name)
    {
        int t = h.Length, heads = c.Heads, hd = c.HeadDim;
        var q = h.Select(v => Linear(v, $"{name}.q_proj")).ToArray();
        var k = h.Select(v => Linear(v, $"{name}.k_proj")).ToArray();
        var v = h.Select(x => Linear(x, $"{name}.v_proj")).ToArray();
        var mixed = Enumerable.Range(0, t).Select(_ => new double[c.Width]).ToArray();
        for (int a = 0; a < heads; a++)
            for (int i = 0; i < t; i++)
            {
                var s = new double[t];
                for (int j = 0; j < t; j++)
                {
                    double dot = 0;
                    for (int e = 0; e < hd; e++) dot += q[i][a * hd + e] * k[j][a * hd + e];
                    s[j] = dot / Math.Sqrt(hd);
                }
                double max = s.Max(), sum = s.Sum(z => Math.Exp(z - max));
                for (int j = 0; j < t; j++)
                {
                    double w = Math.Exp(s[j] - max) / sum;
                    for (int e = 0; e < hd; e++) mixed[i][a * hd + e] += w * v[j][a * hd + e];
                }
            }
        return mixed.Select(m => Linear(m, $"{name}.out_proj")).ToArray();
    }

    private double[] Linear(double[] x, string name)
    {
        var b = p[$"{name}.bias"];
        var y = MatVec(x, p[$"{name}.weight"], x.Length, b.Length);
        for (int i = 0; i < y.Length; i++) y[i] += b[i];
        return y;
    }

    /// <summary>x [in] times W [in, out].</summary>
    private static double[] MatVec(double[] x, double[] w, int fanIn, int fanOut)
    {
        var y = new double[fanOut];
        for (int i = 0; i < fanIn; i++)
            for (int o = 0; o < fanOut; o++) y[o] += x[i] * w[i * fanOut + o];
        return y;
    }

    private double[] LayerNorm(double[] x, string name)
    {
        double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        double inv = 1 / Math.Sqrt(variance + VitTowerGraph.LayerNormEpsilon);
        var g = p[$"{name}.weight"];
        var b = p[$"{name}.bias"];
        return x.Select((v, i) => (v - mean) * inv * g[i] + b[i]).ToArray();
    }

    private static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();
}
