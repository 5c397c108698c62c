namespace Amalgam.Engine.Methods;

/// <summary>
/// The per-element arithmetic of PCB (see <see cref="Pcb"/>), in f64, shared by its passes so the
/// balancing scores beta are bit-identical every time they are recomputed.
/// </summary>
internal static class PcbBalance
{
    /// <summary>Norm(x) = (x - min) / (max - min), with Norm = 0 when max = min (a constant vector).</summary>
    public static double Norm(double x, double min, double max) => max > min ? (x - min) / (max - min) : 0.0;

    /// <summary>|tau| clipped to the task's [low, high] = its [0.01, 0.99] quantiles of |tau|.</summary>
    public static double Clip(float tau, double low, double high) => Math.Clamp((double)Math.Abs(tau), low, high);

    /// <summary>
    /// beta_k for one element of every task: intra_k = exp(K * n_k^2) and inter_k = sum_j
    /// tanh(s_k s_j), with n = Norm(|tauc|) over the task's [low, high] (the min and max of the
    /// clipped |tau|) and s = sign(tau) * n. <paramref name="s"/> and <paramref name="pair"/> are
    /// scratch (K and K*K long); tanh(s_k s_j) is symmetric, so each pair is evaluated once.
    /// </summary>
    public static void Beta(ReadOnlySpan<float> tau, ReadOnlySpan<double> low, ReadOnlySpan<double> high,
        Span<double> s, Span<double> pair, Span<float> beta)
    {
        int k = tau.Length;
        for (int t = 0; t < k; t++) s[t] = Math.Sign(tau[t]) * Norm(Clip(tau[t], low[t], high[t]), low[t], high[t]);
        for (int t = 0; t < k; t++)
            for (int j = t; j < k; j++) pair[t * k + j] = pair[j * k + t] = Math.Tanh(s[t] * s[j]);
        for (int t = 0; t < k; t++)
        {
            double inter = 0;
            for (int j = 0; j < k; j++) inter += pair[t * k + j];
            double n = Math.Abs(s[t]);
            beta[t] = (float)(Math.Exp(k * n * n) * inter);
        }
    }
}
