namespace Amalgam.Engine.Methods.Pcb;

/// <summary>
/// The per-element arithmetic of PCB (see <see cref="PcbMethod"/>), in f64, shared by its passes so the
/// balancing scores beta are bit-identical every time they are recomputed: beta_k = exp(K n_k^2)
/// * sum_j tanh(s_k s_j), rounded to f32, with n = Norm(|tauc|) over the task's [low, high] (the
/// min and max of the clipped |tau|) and s = sign(tau) * n. tanh(s_k s_j) is evaluated the same way
/// whichever of k, j comes first (IEEE multiplication commutes), and the sum runs j = 0..K-1.
/// </summary>
internal static class PcbBalance
{
    /// <summary>Norm(x) = (x - min) / (max - min), with Norm = 0 when max = min (a constant vector).</summary>
    public static double Norm(double x, double min, double max) => max > min ? (x - min) / (max - min) : 0.0;

    /// <summary>|tau| clipped to the task's [low, high] = its [0.01, 0.99] quantiles of |tau|.</summary>
    public static double Clip(float tau, double low, double high) => Math.Clamp((double)Math.Abs(tau), low, high);

    /// <summary>s_k = sign(tau_k) Norm(|tauc_k|) for one element of every task.</summary>
    public static void Signed(ReadOnlySpan<float> tau, ReadOnlySpan<double> low, ReadOnlySpan<double> high, Span<double> s)
    {
        for (int t = 0; t < tau.Length; t++) s[t] = Math.Sign(tau[t]) * Norm(Clip(tau[t], low[t], high[t]), low[t], high[t]);
    }

    /// <summary>
    /// An upper bound of <see cref="BetaOf"/> from s alone, without tanh: tanh(s_t s_j) &lt;=
    /// min(1, |s_t||s_j|) (tanh x &lt;= x for x &gt;= 0, and &lt;= 0 for x &lt; 0), so beta_t &lt;= exp(K n_t^2) *
    /// sum_j min(1, n_t n_j). The relative margin 1e-9 covers libm's tanh error and the f64
    /// rounding of both sums; the product and the f32 rounding are monotonic. Lets a pass skip the
    /// K tanh of an entry that cannot reach its threshold.
    /// </summary>
    public static float Bound(int t, ReadOnlySpan<double> s)
    {
        int k = s.Length;
        double n = Math.Abs(s[t]), inter = 0;
        for (int j = 0; j < k; j++) inter += Math.Min(1.0, n * Math.Abs(s[j]));
        return (float)(Math.Exp(k * n * n) * (inter * (1 + 1e-9)));
    }

    /// <summary>beta_t = (float)(exp(K n_t^2) * sum_j tanh(s_t s_j)).</summary>
    public static float BetaOf(int t, ReadOnlySpan<double> s)
    {
        int k = s.Length;
        double inter = 0;
        for (int j = 0; j < k; j++) inter += Math.Tanh(s[t] * s[j]);
        double n = Math.Abs(s[t]);
        return (float)(Math.Exp(k * n * n) * inter);
    }

    /// <summary>Every beta_t of one element (the same values as <see cref="BetaOf"/>); each tanh pair evaluated once.</summary>
    public static void AllBetas(ReadOnlySpan<double> s, Span<double> pair, Span<float> beta)
    {
        int k = s.Length;
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
