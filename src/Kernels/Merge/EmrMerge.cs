namespace Amalgam.Kernels.Merge;

/// <summary>
/// EMR-Merging's element math (Huang et al., NeurIPS 2024, "Elect, Mask, Rescale"; official code
/// harveyhuang18/EMR_Merging, FusionBench emr_merging), on the K task vectors of one tensor:
/// flag = +1 where sum_i tau_i &gt; 0, else -1 (an exact 0 elects -1); M_i = tau_i * flag &gt; 0;
/// tau_uni = flag * max_i |M_i tau_i|; task i's model theta0 + lambda_i (M_i tau_uni).
/// </summary>
public static class EmrMerge
{
    /// <summary>The elected sign and the unified task vector.</summary>
    public static void Elect(IReadOnlyList<float[]> taus, Span<float> flag, Span<float> unified)
    {
        for (int j = 0; j < flag.Length; j++)
        {
            float sum = 0f;
            for (int i = 0; i < taus.Count; i++) sum += taus[i][j];
            float f = sum > 0f ? 1f : -1f;
            float max = 0f;
            for (int i = 0; i < taus.Count; i++)
            {
                float t = taus[i][j];
                if (t * f > 0f && MathF.Abs(t) > max) max = MathF.Abs(t);
            }
            flag[j] = f;
            unified[j] = f * max;
        }
    }

    /// <summary>mean |tau| (float64 sum, rounded once): the numerator of task i's rescaler, one tensor's share.</summary>
    public static float MeanAbs(ReadOnlySpan<float> tau)
    {
        double s = 0;
        foreach (float x in tau) s += Math.Abs(x);
        return tau.Length == 0 ? 0f : (float)(s / tau.Length);
    }

    /// <summary>mean |M_i tau_uni| over one tensor: the denominator's share.</summary>
    public static float MeanAbsMasked(ReadOnlySpan<float> tau, ReadOnlySpan<float> flag, ReadOnlySpan<float> unified)
    {
        double s = 0;
        for (int j = 0; j < tau.Length; j++)
            if (tau[j] * flag[j] > 0f) s += Math.Abs(unified[j]);
        return tau.Length == 0 ? 0f : (float)(s / tau.Length);
    }

    /// <summary>output = theta0 + lambda (M_i ? tau_uni : 0) for task i.</summary>
    public static void Apply(ReadOnlySpan<float> theta0, ReadOnlySpan<float> tau, ReadOnlySpan<float> flag, ReadOnlySpan<float> unified,
        float lambda, Span<float> output)
    {
        for (int j = 0; j < output.Length; j++)
            output[j] = theta0[j] + lambda * (tau[j] * flag[j] > 0f ? unified[j] : 0f);
    }
}
