namespace Amalgam.Engine.Tests.Methods.Pcb;

/// <summary>
/// PCB (Parameter Competition Balancing) in plain f64 loops with full sorts, over the global
/// flattened task vectors (K x D), written from the specification: clip |tau| to its [0.01, 0.99]
/// quantiles, Norm = min-max over the whole task vector (0 for a constant one), intra = exp(K n^2),
/// inter_k = sum_j tanh(s_k s_j), beta = intra inter held as f32 (the engine's documented score
/// precision), clamp beta below at its (1 - ratio) quantile and Norm, weighted merge.
/// </summary>
public sealed class PcbReference
{
    public double[] Low { get; }
    public double[] High { get; }
    public double[] Threshold { get; }
    public long[] Kept { get; }
    public double[] Merged { get; }       // theta0 + lambda tau_m, flattened
    public double[] Scale { get; }        // |theta0| + |lambda| max_k |tauc_k|

    /// <summary>numpy's default quantile of an ascending array (linear; numpy's _lerp).</summary>
    public static double Quantile(double[] ascending, double q)
    {
        int n = ascending.Length;
        double h = (n - 1) * q;
        int j = Math.Min((int)Math.Floor(h), n - 1);
        double a = ascending[j], b = ascending[Math.Min(j + 1, n - 1)], t = h - j;
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
    }

    private static double[] Norm(double[] x)
    {
        double min = x.Min(), max = x.Max();
        return x.Select(v => max > min ? (v - min) / (max - min) : 0.0).ToArray();
    }

    public PcbReference(double[] theta0, double[][] tau, double ratio, double lambda)
    {
        int k = tau.Length, d = theta0.Length;
        Low = new double[k]; High = new double[k]; Threshold = new double[k]; Kept = new long[k];
        var tauc = new double[k][];
        var s = new double[k][];
        for (int t = 0; t < k; t++)
        {
            var abs = tau[t].Select(Math.Abs).ToArray();
            var sorted = abs.Order().ToArray();
            Low[t] = Quantile(sorted, 0.01);
            High[t] = Quantile(sorted, 0.99);
            var clipped = abs.Select(a => Math.Min(Math.Max(a, Low[t]), High[t])).ToArray();
            var n = Norm(clipped);
            tauc[t] = clipped.Select((a, i) => Math.Sign(tau[t][i]) * a).ToArray();
            s[t] = n.Select((v, i) => Math.Sign(tau[t][i]) * v).ToArray();
        }
        var betaHat = new double[k][];
        for (int t = 0; t < k; t++)
        {
            var beta = new double[d];
            for (int i = 0; i < d; i++)
            {
                double inter = 0;
                for (int j = 0; j < k; j++) inter += Math.Tanh(s[t][i] * s[j][i]);
                double nn = Math.Abs(s[t][i]);
                beta[i] = (float)(Math.Exp(k * nn * nn) * inter);
            }
            var sorted = beta.Order().ToArray();
            Threshold[t] = Quantile(sorted, 1 - ratio);
            betaHat[t] = Norm(beta.Select(v => Math.Max(v, Threshold[t])).ToArray());
            Kept[t] = betaHat[t].Count(v => v > 0);
        }
        Merged = new double[d];
        Scale = new double[d];
        for (int i = 0; i < d; i++)
        {
            double num = 0, den = 0, big = 0;
            for (int t = 0; t < k; t++)
            {
                num += betaHat[t][i] * tauc[t][i];
                den += betaHat[t][i];
                big = Math.Max(big, Math.Abs(tauc[t][i]));
            }
            Merged[i] = theta0[i] + lambda * (num / Math.Max(den, 1e-12));
            Scale[i] = Math.Abs(theta0[i]) + Math.Abs(lambda) * big;
        }
    }
}
