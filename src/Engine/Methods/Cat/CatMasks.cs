namespace Amalgam.Engine.Methods.Cat;

/// <summary>CAT steps 3 and 4 on 1-D task vectors (K of length D).</summary>
public static class CatMasks
{
    /// <summary>
    /// LayerNorm scales. m[k][d] = mean over task k's tokens of x_hat_k[:, d]^2, so
    /// s_k[d] = sum_{j != k} T_j[d]^2 (m_k[d] - lambda m_j[d]), all from the untrimmed T. Then for
    /// k = 1..K in order the top <paramref name="n"/> dims of s_k are zeroed in every T_j (j != k),
    /// each T_j rescaled to the norm it had just before that mask when the result is non-zero.
    /// Trims <paramref name="t"/> in place; returns the dims chosen per k.
    /// </summary>
    public static int[][] LayerNormScale(float[][] t, double[][] m, double lambda, int n)
    {
        int k = t.Length, d = t[0].Length;
        var s = new double[k][];
        for (int a = 0; a < k; a++)
        {
            s[a] = new double[d];
            for (int j = 0; j < k; j++)
            {
                if (j == a) continue;
                for (int i = 0; i < d; i++)
                {
                    double tj = t[j][i];
                    s[a][i] += tj * tj * (m[a][i] - lambda * m[j][i]);
                }
            }
        }
        var chosen = new int[k][];
        for (int a = 0; a < k; a++)
        {
            chosen[a] = k > 1 ? TopIndices.Largest(s[a], n) : [];
            for (int j = 0; j < k; j++)
            {
                if (j == a) continue;
                double before = CatProjection.Norm(t[j]);
                foreach (int i in chosen[a]) t[j][i] = 0f;
                double after = CatProjection.Norm(t[j]);
                if (after > 0)
                {
                    float scale = (float)(before / after);
                    for (int i = 0; i < d; i++) t[j][i] *= scale;
                }
            }
        }
        return chosen;
    }

    /// <summary>Shifts: for each task i, the <paramref name="n"/> dims where T_i^2 is largest (chosen from the untrimmed vectors) are zeroed in every T_j, j != i. No rescaling.</summary>
    public static int[][] Shift(float[][] t, int n)
    {
        int k = t.Length;
        var chosen = new int[k][];
        for (int i = 0; i < k; i++)
        {
            var sq = new double[t[i].Length];
            for (int d = 0; d < sq.Length; d++) sq[d] = (double)t[i][d] * t[i][d];
            chosen[i] = k > 1 ? TopIndices.Largest(sq, n) : [];
        }
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (j != i)
                    foreach (int d in chosen[i]) t[j][d] = 0f;
        return chosen;
    }
}
