namespace Amalgam.Kernels.Blas;

public static unsafe partial class Lapack
{
    /// <summary>
    /// Solves A X = B for symmetric positive definite n x n A by Cholesky (<c>sposv</c>); X replaces B.
    /// Only the <paramref name="uplo"/> triangle of A is read; it is overwritten by the Cholesky factor.
    /// B is n x nrhs (ldb &gt;= nrhs) for <see cref="RhsLayout.Columns"/>, nrhs x n (ldb &gt;= n) for
    /// <see cref="RhsLayout.Rows"/>. Throws <see cref="NotPositiveDefiniteException"/> when A is not
    /// SPD (B is then unchanged); use <see cref="TrySposv"/> to branch on that instead.
    /// </summary>
    public static void Sposv(Triangle uplo, int n, int nrhs, Span<float> a, int lda, Span<float> b, int ldb,
        RhsLayout layout = RhsLayout.Columns)
    {
        int info = SposvCore(uplo, n, nrhs, a, lda, b, ldb, layout);
        if (info > 0) throw new NotPositiveDefiniteException("sposv", info);
    }

    /// <summary>
    /// Like <see cref="Sposv"/> but returns false instead of throwing when A is not positive definite;
    /// <paramref name="failedMinorOrder"/> is then the 1-based order of the first leading minor that is
    /// not positive definite (LAPACK's INFO), else 0. On false, B is unchanged and A's
    /// <paramref name="uplo"/> triangle is partly overwritten, so rebuild A before a fallback solve.
    /// </summary>
    public static bool TrySposv(Triangle uplo, int n, int nrhs, Span<float> a, int lda, Span<float> b, int ldb,
        out int failedMinorOrder, RhsLayout layout = RhsLayout.Columns)
    {
        failedMinorOrder = SposvCore(uplo, n, nrhs, a, lda, b, ldb, layout);
        return failedMinorOrder == 0;
    }

    /// <summary>Runs sposv; returns INFO when it is 0 or positive, throws on an illegal argument.</summary>
    private static int SposvCore(Triangle uplo, int n, int nrhs, Span<float> a, int lda, Span<float> b, int ldb, RhsLayout layout)
    {
        MatrixArgs.Check(nameof(a), a.Length, n, n, lda);
        bool rows = layout == RhsLayout.Rows;
        MatrixArgs.Check(nameof(b), b.Length, rows ? nrhs : n, rows ? n : nrhs, ldb);
        MatrixArgs.NoOverlap(a, b, nameof(a), nameof(b));
        MatrixArgs.CheckFinite(nameof(a), a, n, n, lda, uplo);
        var native = OpenBlas.Native;
        if (n == 0 || nrhs == 0) return 0;

        byte uploChar = MatrixArgs.FortranUplo(uplo);
        int info = 0;
        fixed (float* pa = a)
        fixed (float* pb = b)
        {
            if (rows)
            {
                // Rows of a row-major nrhs x n block are the columns of a column-major n x nrhs one.
                native.Sposv(&uploChar, &n, &nrhs, pa, &lda, pb, &ldb, &info, 1);
            }
            else
            {
                using var ws = new NativeWorkspace([(long)n * nrhs], []);
                float* bt = ws.Floats((long)n * nrhs);
                MatrixArgs.TransposeInto(pb, n, nrhs, ldb, bt, n);
                int ldbt = n;
                native.Sposv(&uploChar, &n, &nrhs, pa, &lda, bt, &ldbt, &info, 1);
                if (info == 0) MatrixArgs.TransposeInto(bt, nrhs, n, n, pb, ldb);
            }
        }
        if (info < 0) throw LapackException.IllegalArgument("sposv", info);
        return info;
    }

    /// <summary>
    /// Minimum-norm least-squares solution X of min ||A X - B||_2 for any m x n A (over-, under-
    /// determined or rank deficient) via the SVD (<c>sgelsd</c>, divide and conquer). Singular values
    /// at or below <paramref name="rcond"/> * s_max count as zero (rcond &lt; 0: machine precision).
    /// A (m x n, lda &gt;= n) and B are not modified. Layout <see cref="RhsLayout.Columns"/>: B is
    /// m x nrhs (ldb &gt;= nrhs), X is n x nrhs (ldx &gt;= nrhs); <see cref="RhsLayout.Rows"/>: B is nrhs x m
    /// (ldb &gt;= m), X is nrhs x n (ldx &gt;= n). When <paramref name="singularValues"/> is not empty it
    /// receives A's min(m, n) singular values, descending. Returns the effective rank of A.
    /// </summary>
    public static int Sgelsd(int m, int n, int nrhs, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> x, int ldx, float rcond, Span<float> singularValues = default, RhsLayout layout = RhsLayout.Columns)
    {
        bool rows = layout == RhsLayout.Rows;
        MatrixArgs.Check(nameof(a), a.Length, m, n, lda);
        MatrixArgs.Check(nameof(b), b.Length, rows ? nrhs : m, rows ? m : nrhs, ldb);
        MatrixArgs.Check(nameof(x), x.Length, rows ? nrhs : n, rows ? n : nrhs, ldx);
        int minMn = Math.Min(m, n);
        if (!singularValues.IsEmpty && singularValues.Length < minMn)
            throw new ArgumentException($"singularValues needs {minMn} floats but has {singularValues.Length}", nameof(singularValues));
        MatrixArgs.NoOverlap(a, x, nameof(a), nameof(x));
        MatrixArgs.NoOverlap(b, x, nameof(b), nameof(x));
        MatrixArgs.CheckFinite(nameof(a), a, m, n, lda);
        var native = OpenBlas.Native;
        if (m == 0 || n == 0)
        {
            // Every x gives residual ||B||; the minimum-norm one is zero.
            for (int r = 0; r < (rows ? nrhs : n); r++) x.Slice(r * ldx, rows ? n : nrhs).Clear();
            return 0;
        }

        // LAPACK overwrites A and needs B with max(m, n) rows, so both go to column-major scratch.
        int ldac = m, ldbc = Math.Max(m, n), info = 0, rank = 0, lwork = -1, iworkQuery = 0;
        float workQuery = 0;
        using var copies = new NativeWorkspace([(long)m * n, (long)ldbc * Math.Max(1, nrhs), minMn], []);
        float* ac = copies.Floats((long)m * n);
        float* bc = copies.Floats((long)ldbc * Math.Max(1, nrhs));
        float* s = copies.Floats(minMn);
        fixed (float* pa = a)
        fixed (float* pb = b)
        {
            MatrixArgs.TransposeInto(pa, m, n, lda, ac, ldac);
            if (rows)
                for (int r = 0; r < nrhs; r++) new ReadOnlySpan<float>(pb + (long)r * ldb, m).CopyTo(new Span<float>(bc + (long)r * ldbc, m));
            else
                MatrixArgs.TransposeInto(pb, m, nrhs, ldb, bc, ldbc);
        }

        native.Sgelsd(&m, &n, &nrhs, ac, &ldac, bc, &ldbc, s, &rcond, &rank, &workQuery, &lwork, &iworkQuery, &info);
        if (info != 0) throw LapackException.IllegalArgument("sgelsd", info);
        lwork = NativeWorkspace.QueriedSize(workQuery, 1);
        int liwork = Math.Max(iworkQuery, 1);
        using (var ws = new NativeWorkspace([lwork], [liwork]))
        {
            native.Sgelsd(&m, &n, &nrhs, ac, &ldac, bc, &ldbc, s, &rcond, &rank, ws.Floats(lwork), &lwork, ws.Ints(liwork), &info);
        }
        if (info < 0) throw LapackException.IllegalArgument("sgelsd", info);
        if (info > 0) throw new LapackException("sgelsd", info, $"the SVD did not converge ({info} off-diagonal elements of a bidiagonal form did not reach zero)");

        fixed (float* px = x)
        {
            if (rows)
                for (int r = 0; r < nrhs; r++) new ReadOnlySpan<float>(bc + (long)r * ldbc, n).CopyTo(new Span<float>(px + (long)r * ldx, n));
            else
                MatrixArgs.TransposeInto(bc, nrhs, n, ldbc, px, ldx);
        }
        if (!singularValues.IsEmpty) new ReadOnlySpan<float>(s, minMn).CopyTo(singularValues);
        return rank;
    }
}
