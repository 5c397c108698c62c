using Amalgam.Engine.LayerInputs;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.Cat;
using Amalgam.Kernels.Blas;
using MathNet.Numerics.LinearAlgebra;

namespace Amalgam.Engine.Tests.Methods.Cat;

/// <summary>
/// CAT's reduced eigenproblem (thin QR of the stacked rows, m x m M = R S R^T) against forming the
/// d_out x d_out G = A^T S A and decomposing it, and against a float64 MathNet EVD of G, on random
/// inputs with m &lt; d_out. G has d_out - m zero eigenvalues; the full f32 path may keep some of
/// them as round-off sized "positive" ones, so comparisons cover the eigenvalues above 1e-3 of
/// the largest (every genuine positive eigenvalue here is far above that).
/// </summary>
public class CatReducedEigenTests
{
    private const int DOut = 70, RowsPerBlock = 6, Pairs = 3; // m = 2 * 3 * 6 = 36 < 70

    private static (List<float[]> Blocks, List<float> Weights) Case(int seed, float lambda)
    {
        var rng = new Random(seed);
        var blocks = new List<float[]>();
        var weights = new List<float>();
        for (int j = 0; j < 2 * Pairs; j++)
        {
            // Varying scales so the spectrum is spread (well separated top eigenvalues).
            double scale = 1 + j;
            blocks.Add(Enumerable.Range(0, RowsPerBlock * DOut).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray());
            weights.Add(j < Pairs ? 1f : -lambda);
        }
        return (blocks, weights);
    }

    private static Matrix<double> Gram64(List<float[]> blocks, List<float> weights)
    {
        var g = Matrix<double>.Build.Dense(DOut, DOut);
        for (int j = 0; j < blocks.Count; j++)
        {
            var a = Matrix<double>.Build.Dense(blocks[j].Length / DOut, DOut, (r, c) => blocks[j][r * DOut + c]);
            g += weights[j] * (a.Transpose() * a);
        }
        return g;
    }

    private static Matrix<double> Projector(CatBasis b, double[] values, double threshold)
    {
        var p = Matrix<double>.Build.Dense(b.DOut, b.DOut);
        for (int r = 0; r < b.Rank; r++)
        {
            if (values[r] <= threshold) continue;
            var v = Vector<double>.Build.Dense(b.DOut, i => b.Rows[r * b.DOut + i]);
            p += v.OuterProduct(v);
        }
        return p;
    }

    /// <summary>Rayleigh quotients v^T G v of the basis rows in float64: their eigenvalues.</summary>
    private static double[] Values(CatBasis b, Matrix<double> g) =>
        Enumerable.Range(0, b.Rank).Select(r =>
        {
            var v = Vector<double>.Build.Dense(b.DOut, i => b.Rows[r * b.DOut + i]);
            return v * (g * v);
        }).ToArray();

    [TestCase(3, false, 0.0)]
    [TestCase(0, true, 0.0)]
    [TestCase(0, false, 0.8)]
    public void ReducedMatchesFullAndFloat64(int rank, bool positive, double energy)
    {
        var (blocks, weights) = Case(11 + rank + (positive ? 100 : 0), 0.7f);
        var rule = new BasisRule(rank, positive, energy);
        using var _ = BlasThreadPin.One();
        var full = CatBases.WeightedGramBasis(blocks, weights, DOut, rule, GramEigenPath.Full);
        var reduced = CatBases.WeightedGramBasis(blocks, weights, DOut, rule, GramEigenPath.Reduced);
        var auto = CatBases.WeightedGramBasis(blocks, weights, DOut, rule);

        Assert.That(auto.Rows, Is.EqualTo(reduced.Rows), "Auto takes the reduced path when m < d_out");
        var g = Gram64(blocks, weights);
        var expected = g.Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).OrderByDescending(x => x).ToArray();
        double top = expected[0], threshold = 1e-3 * top;
        Assert.That(reduced.LargestEigenvalue, Is.EqualTo(top).Within(1e-4 * top));
        Assert.That(full.LargestEigenvalue, Is.EqualTo(top).Within(1e-4 * top));

        double[] fullValues = Values(full, g), reducedValues = Values(reduced, g);
        int genuine = fullValues.Count(v => v > threshold);
        Assert.That(reducedValues.Count(v => v > threshold), Is.EqualTo(genuine), "same kept eigenvalues above round-off");
        Assert.That(reduced.Rank, Is.LessThanOrEqualTo(full.Rank));
        if (positive) Assert.That(genuine, Is.EqualTo(Pairs * RowsPerBlock), "all positive: inertia of S");
        if (rank > 0) Assert.That(reduced.Rank, Is.EqualTo(rank));
        for (int r = 0; r < genuine; r++)
        {
            Assert.That(reducedValues[r], Is.EqualTo(expected[r]).Within(1e-4 * top), $"reduced eigenvalue {r}");
            Assert.That(fullValues[r], Is.EqualTo(expected[r]).Within(1e-4 * top), $"full eigenvalue {r}");
        }
        var diff = Projector(reduced, reducedValues, threshold) - Projector(full, fullValues, threshold);
        Assert.That(diff.Enumerate().Max(Math.Abs), Is.LessThan(1e-4), "projectors B B^T");
        // Orthonormal rows.
        var b = Matrix<double>.Build.Dense(reduced.Rank, DOut, (r, c) => reduced.Rows[r * DOut + c]);
        Assert.That((b * b.Transpose() - Matrix<double>.Build.DenseIdentity(reduced.Rank)).Enumerate().Max(Math.Abs), Is.LessThan(1e-5));
    }

    [Test]
    public void ComputeTakesTheReducedPathAndMatchesFull()
    {
        const int k = 4, dIn = 12, dOut = 80, n = 5; // m = 2 * 3 * 5 = 30 < 80
        var rng = new Random(5);
        float[] R(int len) => Enumerable.Range(0, len).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var tasks = Enumerable.Range(0, k).Select(_ => R(dIn * dOut)).ToList();
        var rows = Enumerable.Range(0, k).Select(_ => R(n * dIn)).ToList();
        var rule = new BasisRule(2, false, 0);
        using var _ = BlasThreadPin.One();
        var bases = CatBases.Compute(tasks, false, dIn, dOut, rows, 0.5, rule);
        for (int t = 0; t < k; t++)
        {
            var blocks = new List<float[]>();
            var weights = new List<float>();
            for (int i = 0; i < k; i++) if (i != t) { blocks.Add(CatBases.Project(rows[t], tasks[i], false, dIn, dOut)); weights.Add(1f); }
            for (int i = 0; i < k; i++) if (i != t) { blocks.Add(CatBases.Project(rows[i], tasks[i], false, dIn, dOut)); weights.Add(-0.5f); }
            var full = CatBases.WeightedGramBasis(blocks, weights, dOut, rule, GramEigenPath.Full);
            var reduced = CatBases.WeightedGramBasis(blocks, weights, dOut, rule, GramEigenPath.Reduced);
            Assert.That(bases[t].Rows, Is.EqualTo(reduced.Rows), $"task {t}: Compute used the reduced path");
            Assert.That(bases[t].LargestEigenvalue, Is.EqualTo(full.LargestEigenvalue).Within(1e-4 * full.LargestEigenvalue));
            var pf = Matrix<double>.Build.Dense(dOut, dOut);
            var pr = Matrix<double>.Build.Dense(dOut, dOut);
            for (int r = 0; r < 2; r++)
            {
                var vf = Vector<double>.Build.Dense(dOut, i => full.Rows[r * dOut + i]);
                var vr = Vector<double>.Build.Dense(dOut, i => reduced.Rows[r * dOut + i]);
                pf += vf.OuterProduct(vf);
                pr += vr.OuterProduct(vr);
            }
            Assert.That((pf - pr).Enumerate().Max(Math.Abs), Is.LessThan(1e-4), $"task {t}: projectors");
        }
    }
}
