using MathNet.Numerics.LinearAlgebra;

namespace Amalgam.Kernels.Tests.Blas;

/// <summary>
/// Float64 references and seeded random inputs for the BLAS/LAPACK tests. Matrices are row-major
/// float arrays with an explicit leading dimension, like the wrappers under test; padding beyond
/// each row is filled with NaN so any read of it poisons the result.
/// </summary>
internal static class DenseReference
{
    /// <summary>Float32 unit roundoff times two (the spacing of floats at 1).</summary>
    public const double FloatEps = 1.0 / (1 << 23);

    /// <summary>rows x cols uniform in [-1, 1), leading dimension ld, NaN padding.</summary>
    public static float[] Random(Random rng, int rows, int cols, int ld)
    {
        var a = new float[rows * ld];
        Array.Fill(a, float.NaN);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) a[i * ld + j] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>Copies a row-major float block into a MathNet double matrix.</summary>
    public static Matrix<double> ToDouble(float[] a, int rows, int cols, int ld) =>
        Matrix<double>.Build.Dense(rows, cols, (i, j) => a[i * ld + j]);

    /// <summary>Row-major float block (leading dimension ld, NaN padding) of a double matrix, rounded.</summary>
    public static float[] ToFloat(Matrix<double> m, int ld)
    {
        var a = new float[m.RowCount * ld];
        Array.Fill(a, float.NaN);
        for (int i = 0; i < m.RowCount; i++)
            for (int j = 0; j < m.ColumnCount; j++) a[i * ld + j] = (float)m[i, j];
        return a;
    }

    /// <summary>Random orthogonal n x n matrix (Q of a QR of a Gaussian-ish matrix), in double.</summary>
    public static Matrix<double> RandomOrthogonal(Random rng, int n) =>
        Matrix<double>.Build.Dense(n, n, (_, _) => rng.NextDouble() * 2 - 1).QR().Q;

    /// <summary>Symmetric matrix Q diag(values) Q^T with a known spectrum, in double.</summary>
    public static Matrix<double> WithSpectrum(Matrix<double> q, double[] values) =>
        q * Matrix<double>.Build.DenseOfDiagonalArray(values) * q.Transpose();

    /// <summary>Symmetric n x n float matrix with only the given triangle set; the other holds NaN.</summary>
    public static float[] TriangleOnly(Matrix<double> sym, int ld, bool upper)
    {
        int n = sym.RowCount;
        var a = new float[n * ld];
        Array.Fill(a, float.NaN);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (upper ? j >= i : j <= i) a[i * ld + j] = (float)sym[i, j];
        return a;
    }

    /// <summary>Symmetric double matrix from the rounded float values of one triangle.</summary>
    public static Matrix<double> SymmetricFromTriangle(float[] a, int n, int ld, bool upper) =>
        Matrix<double>.Build.Dense(n, n, (i, j) =>
        {
            (int r, int c) = upper == (j >= i) ? (i, j) : (j, i);
            return a[r * ld + c];
        });

    /// <summary>Eigenvalues of a symmetric double matrix, ascending (MathNet managed provider).</summary>
    public static double[] SymmetricEigenvalues(Matrix<double> sym)
    {
        var values = sym.Evd(Symmetricity.Symmetric).EigenValues.Select(z => z.Real).ToArray();
        Array.Sort(values);
        return values;
    }

    /// <summary>
    /// Minimum-norm least-squares solution in double via the SVD, treating singular values at or
    /// below rcond * s_max as zero (sgelsd's rule). Returns the solution and the effective rank.
    /// </summary>
    public static (Matrix<double> X, int Rank) MinNormLeastSquares(Matrix<double> a, Matrix<double> b, double rcond)
    {
        var svd = a.Svd(computeVectors: true);
        var s = svd.S;
        double threshold = rcond * s[0];
        int rank = s.Count(v => v > threshold);
        // X = V_r diag(1/s_r) U_r^T B
        var u = svd.U.SubMatrix(0, a.RowCount, 0, rank);
        var v = svd.VT.SubMatrix(0, rank, 0, a.ColumnCount).Transpose();
        var inv = Matrix<double>.Build.DenseOfDiagonalArray(s.Take(rank).Select(x => 1 / x).ToArray());
        return (v * inv * u.Transpose() * b, rank);
    }

    /// <summary>
    /// Largest absolute entry; +Infinity if any entry is NaN. (LINQ's Max skips NaNs and NUnit's
    /// Is.LessThan orders NaN below everything, so a NaN must not reach an assertion.)
    /// </summary>
    public static double MaxAbs(Matrix<double> m) => MaxAbs(m.Enumerate());

    public static double MaxAbs(Vector<double> v) => MaxAbs(v.Enumerate());

    private static double MaxAbs(IEnumerable<double> values)
    {
        double max = 0;
        foreach (double v in values)
        {
            if (double.IsNaN(v)) return double.PositiveInfinity;
            max = Math.Max(max, Math.Abs(v));
        }
        return max;
    }
}
