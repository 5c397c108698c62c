namespace Amalgam.Kernels.Blas;

public static unsafe partial class Lapack
{
    /// <summary>
    /// Thin QR factorisation of the TRANSPOSE of the row-major m x n matrix A (m &lt;= n, lda &gt;= n):
    /// A^T = Q R with Q n x m with orthonormal columns and R m x m upper triangular (Householder,
    /// <c>sgeqrf</c> then <c>sorgqr</c>). Equivalently A = R^T Q^T, an LQ factorisation of A.
    /// A row-major m x n block IS the column-major n x m matrix A^T, so LAPACK works on it in place
    /// without a transpose. On return row j of <paramref name="a"/> (<c>[j * lda .. j * lda + n)</c>)
    /// is column j of Q (so the rows are orthonormal), and <paramref name="r"/> holds R row-major
    /// (m x m, ldr &gt;= m; the strictly lower triangle is set to 0). Row padding of A is not touched.
    /// R's diagonal may be negative (LAPACK's sign convention); a rank-deficient A still gives an
    /// orthonormal Q with zeros on R's diagonal.
    /// </summary>
    public static void QrOfTranspose(int m, int n, Span<float> a, int lda, Span<float> r, int ldr)
    {
        MatrixArgs.Check(nameof(a), a.Length, m, n, lda);
        MatrixArgs.Check(nameof(r), r.Length, m, m, ldr);
        if (m > n) throw new ArgumentException($"QrOfTranspose needs at most as many rows as columns (A is {m}x{n})", nameof(m));
        MatrixArgs.NoOverlap(a, r, nameof(a), nameof(r));
        MatrixArgs.CheckFinite(nameof(a), a, m, n, lda);
        var native = OpenBlas.Native;
        if (m == 0) return;

        // Column-major view: A^T is rows = n, cols = m, leading dimension lda.
        int rowsF = n, colsF = m, ldF = lda, info = 0, lwork = -1;
        float workQuery = 0;
        fixed (float* pa = a)
        fixed (float* pr = r)
        {
            using var tauSpace = new NativeWorkspace([m], []);
            float* tau = tauSpace.Floats(m);
            native.Sgeqrf(&rowsF, &colsF, pa, &ldF, tau, &workQuery, &lwork, &info);
            if (info != 0) throw LapackException.IllegalArgument("sgeqrf", info);
            lwork = NativeWorkspace.QueriedSize(workQuery, Math.Max(1, colsF));
            using (var ws = new NativeWorkspace([lwork], []))
            {
                native.Sgeqrf(&rowsF, &colsF, pa, &ldF, tau, ws.Floats(lwork), &lwork, &info);
            }
            if (info != 0) throw LapackException.IllegalArgument("sgeqrf", info);

            // R is the upper triangle of the column-major result: R(i, j) = a[j * lda + i], i <= j.
            for (int i = 0; i < m; i++)
            {
                float* row = pr + (long)i * ldr;
                for (int j = 0; j < i; j++) row[j] = 0f;
                for (int j = i; j < m; j++) row[j] = pa[(long)j * lda + i];
            }

            lwork = -1;
            native.Sorgqr(&rowsF, &colsF, &colsF, pa, &ldF, tau, &workQuery, &lwork, &info);
            if (info != 0) throw LapackException.IllegalArgument("sorgqr", info);
            lwork = NativeWorkspace.QueriedSize(workQuery, Math.Max(1, colsF));
            using (var ws = new NativeWorkspace([lwork], []))
            {
                native.Sorgqr(&rowsF, &colsF, &colsF, pa, &ldF, tau, ws.Floats(lwork), &lwork, &info);
            }
            if (info != 0) throw LapackException.IllegalArgument("sorgqr", info);
        }
    }
}
