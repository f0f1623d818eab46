//! Eight edwards25519 points side by side (−x² + y² = 1 + d·x²·y²), in the coordinates and
//! with the formulas of Hisil, Wong, Carter and Dawson (2008) for a = −1, as
//! curve25519-dalek uses them.

use crate::field::{F8, constants};

/// Eight points in extended coordinates: x = X/Z, y = Y/Z, x·y = T/Z.
#[derive(Clone, Copy)]
pub(crate) struct Ext8 {
    pub(crate) x: F8,
    pub(crate) y: F8,
    pub(crate) z: F8,
    pub(crate) t: F8,
}

/// Eight affine points in the form that adds fastest: (y + x, y − x, 2d·x·y).
#[derive(Clone, Copy)]
pub(crate) struct Niels8 {
    pub(crate) y_plus_x: F8,
    pub(crate) y_minus_x: F8,
    pub(crate) xy2d: F8,
}

impl Niels8 {
    /// The affine points (x, y).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn from_affine(x: &F8, y: &F8) -> Niels8 {
        Niels8 {
            y_plus_x: y.add(x),
            y_minus_x: y.sub(x),
            xy2d: x.mul(y).mul(&F8::splat(constants::D2)),
        }
    }
}

impl Ext8 {
    /// Eight neutral points (0, 1).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn identity() -> Ext8 {
        let (zero, one) = (F8::splat(constants::ZERO), F8::splat(constants::ONE));
        Ext8 {
            x: zero,
            y: one,
            z: one,
            t: zero,
        }
    }

    /// From the completed point ((X:Z), (Y:T)) that both additions and the doubling end in.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn from_completed(x: &F8, y: &F8, z: &F8, t: &F8) -> Ext8 {
        Ext8 {
            x: x.mul(t),
            y: y.mul(z),
            z: z.mul(t),
            t: x.mul(y),
        }
    }

    /// `self + q` for affine `q` (7 multiplications).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn add_niels(&self, q: &Niels8) -> Ext8 {
        let pp = self.y.add(&self.x).mul(&q.y_plus_x);
        let mm = self.y.sub(&self.x).mul(&q.y_minus_x);
        let txy2d = self.t.mul(&q.xy2d);
        let z2 = self.z.add(&self.z);
        Ext8::from_completed(&pp.sub(&mm), &pp.add(&mm), &z2.add(&txy2d), &z2.sub(&txy2d))
    }

    /// `self + q` (9 multiplications).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn add(&self, q: &Ext8) -> Ext8 {
        let pp = self.y.add(&self.x).mul(&q.y.add(&q.x));
        let mm = self.y.sub(&self.x).mul(&q.y.sub(&q.x));
        let tt2d = self.t.mul(&q.t.mul(&F8::splat(constants::D2)));
        let zz = self.z.mul(&q.z);
        let zz2 = zz.add(&zz);
        Ext8::from_completed(&pp.sub(&mm), &pp.add(&mm), &zz2.add(&tt2d), &zz2.sub(&tt2d))
    }

    /// `2 · self`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn double(&self) -> Ext8 {
        let xx = self.x.square();
        let yy = self.y.square();
        let zz = self.z.square();
        let zz2 = zz.add(&zz);
        let x_plus_y_sq = self.x.add(&self.y).square();
        let yy_plus_xx = yy.add(&xx);
        let yy_minus_xx = yy.sub(&xx);
        Ext8::from_completed(
            &x_plus_y_sq.sub(&yy_plus_xx),
            &yy_plus_xx,
            &yy_minus_xx,
            &zz2.sub(&yy_minus_xx),
        )
    }
}
