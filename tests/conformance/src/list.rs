// SPDX-License-Identifier: Apache-2.0
//! [`List`]: a fixed-capacity vector, so the payload can collect device-tree facts without
//! a heap. Pushing past the capacity is reported, never a panic.

/// Up to `N` values of a `Copy` type.
#[derive(Clone, Copy)]
pub struct List<T: Copy + Default, const N: usize> {
    items: [T; N],
    len: usize,
}

/// The list was full; the value was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

impl<T: Copy + Default, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + Default, const N: usize> List<T, N> {
    pub fn new() -> Self {
        List {
            items: [T::default(); N],
            len: 0,
        }
    }

    pub fn push(&mut self, value: T) -> Result<(), Full> {
        let slot = self.items.get_mut(self.len).ok_or(Full)?;
        *slot = value;
        self.len += 1;
        Ok(())
    }

    pub fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.items[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> core::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    pub fn contains(&self, value: &T) -> bool
    where
        T: PartialEq,
    {
        self.as_slice().contains(value)
    }
}

impl<T: Copy + Default + core::fmt::Debug, const N: usize> core::fmt::Debug for List<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_until_full() {
        let mut l: List<u32, 2> = List::new();
        assert!(l.is_empty());
        l.push(1).unwrap();
        l.push(2).unwrap();
        assert_eq!(l.push(3), Err(Full));
        assert_eq!(l.as_slice(), [1, 2]);
        assert!(l.contains(&2));
    }
}
