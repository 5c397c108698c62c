namespace Amalgam.Kernels.Blas;

public static unsafe partial class Lapack
{
    /// <summary>
    /// Thin SVD of the row-major m x n matrix A (dense, lda = n): A = U diag(s) V^T with r = min(m, n),
    /// U m x r and V^T r x n row-major, s descending (<c>sgesdd</c>, divide and conquer, JOBZ = 'S').
    /// A row-major m x n block is the column-major n x m matrix A^T, so LAPACK factors
    /// A^T = U' S V'^T in place and the roles swap: A's U is V'^T read row-major, A's V^T is U'.
    /// <paramref name="a"/> is destroyed. Signs of singular vector pairs are LAPACK's.
    /// </summary>
    public static void Svd(int m, int n, Span<float> a, Span<float> s, Span<float> u, Span<float> vt)
    {
        int r = Math.Min(m, n);
        MatrixArgs.Check(nameof(a), a.Length, m, n, Math.Max(1, n));
        if (s.Length < r) throw new ArgumentException($"s needs {r} floats but has {s.Length}", nameof(s));
        MatrixArgs.Check(nameof(u), u.Length, m, r, Math.Max(1, r));
        MatrixArgs.Check(nameof(vt), vt.Length, r, n, Math.Max(1, n));
        MatrixArgs.CheckFinite(nameof(a), a, m, n, Math.Max(1, n));
        var native = OpenBlas.Native;
        if (r == 0) return;
        // Column-major problem: M' = n rows, N' = m columns, A' = a (ld n); U' = vt buffer (n x r, ld n),
        // V'^T = u buffer (r x m, ld r).
        int mf = n, nf = m, lda = n, ldu = n, ldvt = r, info = 0, lwork = -1;
        byte jobz = (byte)'S';
        float query = 0;
        int iwork = 8 * r;
        fixed (float* pa = a)
        fixed (float* ps = s)
        fixed (float* pu = u)
        fixed (float* pvt = vt)
        {
            using var iws = new NativeWorkspace([], [iwork]);
            int* pi = iws.Ints(iwork);
            native.Sgesdd(&jobz, &mf, &nf, pa, &lda, ps, pvt, &ldu, pu, &ldvt, &query, &lwork, pi, &info, 1);
            if (info != 0) throw LapackException.IllegalArgument("sgesdd", info);
            lwork = NativeWorkspace.QueriedSize(query, 1);
            using var ws = new NativeWorkspace([lwork], []);
            native.Sgesdd(&jobz, &mf, &nf, pa, &lda, ps, pvt, &ldu, pu, &ldvt, ws.Floats(lwork), &lwork, pi, &info, 1);
        }
        if (info < 0) throw LapackException.IllegalArgument("sgesdd", info);
        if (info > 0) throw new LapackException("sgesdd", info, "the divide-and-conquer SVD did not converge");
    }

    /// <summary>
    /// polar(A) = U V^T for the row-major m x n matrix A (its thin SVD A = U S V^T): the orthogonal
    /// factor nearest A in Frobenius norm, m x n with orthonormal rows or columns. Written to
    /// <paramref name="polar"/> (m x n, dense); <paramref name="a"/> is destroyed.
    /// </summary>
    public static void Polar(int m, int n, Span<float> a, Span<float> polar)
    {
        int r = Math.Min(m, n);
        MatrixArgs.Check(nameof(polar), polar.Length, m, n, Math.Max(1, n));
        var s = new float[r];
        var u = new float[(long)m * r];
        var vt = new float[(long)r * n];
        Svd(m, n, a, s, u, vt);
        BlasLevel3.Sgemm(m, n, r, u, vt, polar);
    }
}
